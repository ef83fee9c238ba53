using System.Numerics.Tensors;
using StepSharp.Kernels;
using StepSharp.Models.Common;
using StepSharp.Tensors;

namespace StepSharp.Models.Step35;

/// <summary>
/// The Step 3.5 MoE FFN (spec §2.5): a sigmoid router whose bias only picks the experts, the picked
/// experts' unbiased scores renormalised and scaled, a weighted sum of SwiGLU-step experts, plus an
/// ungated shared expert. Tokens routed to the same expert are grouped so each expert's weights are read
/// once per step, whatever the number of tokens.
/// </summary>
public sealed class Step35Moe
{
    public Step35Moe(int layerIndex, Step35Config config, TensorView router, float[]? routerBias, FeedForward experts, FeedForward shared)
    {
        LayerIndex = layerIndex;
        Router = router;
        RouterBias = routerBias;
        Experts = experts;
        Shared = shared;
        ExpertCount = config.ExpertCount;
        ExpertUsed = config.ExpertUsedCount;
        WeightsScale = config.ExpertWeightsScale;
        NormalizeWeights = config.ExpertWeightsNorm;
        Gating = config.GatingFunction;
    }

    public int LayerIndex { get; }
    public TensorView Router { get; }       // (E, D) ffn_gate_inp, F32 router (spec §8.3)
    public float[]? RouterBias { get; }     // (E) exp_probs_b: selection only
    public FeedForward Experts { get; }     // 3-D tensors (E·ff, D) / (E·D, ff)
    public FeedForward Shared { get; }      // (ff_s, D) / (D, ff_s)
    public int ExpertCount { get; }
    public int ExpertUsed { get; }
    public float WeightsScale { get; }
    public bool NormalizeWeights { get; }
    public ExpertGating Gating { get; }

    /// <summary>FFN(f) for <paramref name="tokens"/> rows of <c>b.Normed</c>, written to <c>b.FeedForwardOut</c>.</summary>
    public void Forward(KernelThreadPool pool, ForwardBuffers b, int tokens, IActivationSink? sink)
    {
        int D = b.Dimensions.Hidden, E = ExpertCount, k = ExpertUsed;
        int l = LayerIndex;
        ReadOnlySpan<float> f = b.Normed.AsSpan(0, tokens * D);
        Span<float> logits = b.RouterLogits.AsSpan(0, tokens * E);
        Span<float> probs = b.RouterProbs.AsSpan(0, tokens * E);
        Span<float> biased = b.RouterBiased.AsSpan(0, tokens * E);
        Span<int> selected = b.SelectedExperts.AsSpan(0, tokens * k);
        Span<float> weights = b.ExpertWeights.AsSpan(0, tokens * k);

        // 1–2. z = f·Wr (fp32), s = sigmoid(z) (or softmax for other gating functions)
        MatMul.Compute(pool, Router, 0, E, f, tokens, logits);
        sink?.Record($"ffn_moe_logits-{l}", logits, E, tokens);
        for (int t = 0; t < tokens; t++)
        {
            Span<float> s = probs.Slice(t * E, E);
            if (Gating == ExpertGating.Sigmoid) Activations.Sigmoid(logits.Slice(t * E, E), s);
            else Activations.SoftMax(logits.Slice(t * E, E), s);
            Span<float> sb = biased.Slice(t * E, E);
            if (RouterBias is null) s.CopyTo(sb);
            else TensorPrimitives.Add(s, RouterBias, sb);
        }
        sink?.Record($"ffn_moe_probs-{l}", probs, E, tokens);
        sink?.Record($"ffn_moe_probs_biased-{l}", biased, E, tokens);

        // 3–4. top-k of s + b; weights from the unbiased s, renormalised, × scale
        for (int t = 0; t < tokens; t++)
        {
            Span<int> idx = selected.Slice(t * k, k);
            SelectTopK(biased.Slice(t * E, E), idx);
            Span<float> w = weights.Slice(t * k, k);
            float sum = 0;
            for (int j = 0; j < k; j++) sum += w[j] = probs[t * E + idx[j]];
            float norm = NormalizeWeights ? 1f / (sum + 1e-20f) : 1f;
            for (int j = 0; j < k; j++) w[j] *= norm * WeightsScale;
        }
        if (sink is not null)
        {
            var ids = new float[tokens * k];
            for (int i = 0; i < ids.Length; i++) ids[i] = selected[i];
            sink.Record($"ffn_moe_topk-{l}", ids, k, tokens);
            sink.Record($"ffn_moe_weights_scaled-{l}", weights, 1, k, tokens);
        }

        // 5. routed = Σ_k w_k · Expert_k(f), grouping the tokens of each expert.
        Span<int> counts = b.ExpertTokenCounts.AsSpan(0, E);
        counts.Clear();
        for (int t = 0; t < tokens; t++)
            for (int j = 0; j < k; j++)
            {
                int e = selected[t * k + j];
                int n = counts[e]++;
                b.ExpertTokens[e * b.MaxTokens + n] = t;
                b.ExpertSlots[e * b.MaxTokens + n] = j;
            }
        Span<float> routed = b.FeedForwardOut.AsSpan(0, tokens * D);
        routed.Clear();
        // Decode: f is rounded to int8 once for the k experts' and the shared expert's gate and up matrices.
        DecodeActivations? decodeInput = tokens == 1 ? b.DecodeFeedForwardInput : null;
        decodeInput?.Prepare(f, Experts.Gate.Type, Experts.Up.Type, Shared.Gate.Type, Shared.Up.Type);
        Span<float> shared = b.SharedOut.AsSpan(0, tokens * D);
        if (decodeInput is not null)
        {
            // One token: the k experts and the shared one in two parallel phases (gate and up rows, then down rows)
            // instead of one fork/join per matrix.
            ReadOnlySpan<float> outputs = (t_decodeJob ??= new MoeDecodeJob()).Run(pool, decodeInput, Experts, selected, Shared);
            for (int j = 0; j < k; j++)
                TensorPrimitives.MultiplyAdd(outputs.Slice(j * D, D), weights[j], routed, routed);
            outputs.Slice(k * D, D).CopyTo(shared);
        }
        else for (int e = 0; e < E; e++)
        {
            int n = counts[e];
            if (n == 0) continue;
            Span<float> xin = b.ExpertInput.AsSpan(0, n * D);
            Span<float> xout = b.ExpertOutput.AsSpan(0, n * D);
            for (int i = 0; i < n; i++) f.Slice(b.ExpertTokens[e * b.MaxTokens + i] * D, D).CopyTo(xin.Slice(i * D, D));
            Experts.Forward(pool, xin, xout, n, b.FeedForwardGate, b.FeedForwardUp, e);
            for (int i = 0; i < n; i++)
            {
                int t = b.ExpertTokens[e * b.MaxTokens + i];
                float w = weights[t * k + b.ExpertSlots[e * b.MaxTokens + i]];
                Span<float> dst = routed.Slice(t * D, D);
                TensorPrimitives.MultiplyAdd(xout.Slice(i * D, D), w, dst, dst);
            }
        }
        sink?.Record($"ffn_moe_out-{l}", routed, D, tokens);

        // 6–7. FFN(f) = routed + SharedExpert(f) (ungated; a one-token step computed it with the experts above)
        if (decodeInput is null) Shared.Forward(pool, f, shared, tokens, b.FeedForwardGate, b.FeedForwardUp);
        sink?.Record($"ffn_shared_out-{l}", shared, D, tokens);
        TensorPrimitives.Add(routed, shared, routed);
    }

    [ThreadStatic] private static MoeDecodeJob? t_decodeJob;

    /// <summary>Indices of the k largest scores, highest first; ties keep the lower index (spec: any stable order).</summary>
    internal static void SelectTopK(ReadOnlySpan<float> scores, Span<int> result)
    {
        int k = result.Length;
        int filled = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            float s = scores[i];
            if (filled == k && !(s > scores[result[k - 1]])) continue;
            int pos = filled < k ? filled++ : k - 1;
            while (pos > 0 && s > scores[result[pos - 1]]) { result[pos] = result[pos - 1]; pos--; }
            result[pos] = i;
        }
    }
}
