using StepSharp.Kernels;
using StepSharp.Tensors;

namespace StepSharp.Models.Common;

/// <summary>Weights of one attention block. Shapes in HF [out, in] order (GGUF stores them reversed).</summary>
public sealed class AttentionWeights
{
    public required float[] Norm { get; init; }        // (D) input RMSNorm
    public required TensorView Query { get; init; }    // (H·dh, D)
    public required TensorView Key { get; init; }      // (Hkv·dh, D)
    public required TensorView Value { get; init; }    // (Hkv·dh, D)
    public required TensorView Output { get; init; }   // (D, H·dh)
    public float[]? QueryNorm { get; init; }           // (dh) per-head RMSNorm, Step 3.5
    public float[]? KeyNorm { get; init; }             // (dh)
    public TensorView? HeadGate { get; init; }         // (H, D) head-wise sigmoid gate, Step 3.5

    /// <summary>
    /// The llama.cpp tensors <c>{prefix}attn_*</c> of one block, shape-checked. <paramref name="gated"/> adds Step 3.5's
    /// per-head Q/K norms and head-wise gate.
    /// </summary>
    public static AttentionWeights Load(WeightLoader w, string prefix, int hidden, int heads, int kvHeads, int headDim, bool gated) => new()
    {
        Norm = w.Vector(prefix + "attn_norm.weight", hidden),
        Query = w.Matrix(prefix + "attn_q.weight", hidden, heads * headDim),
        Key = w.Matrix(prefix + "attn_k.weight", hidden, kvHeads * headDim),
        Value = w.Matrix(prefix + "attn_v.weight", hidden, kvHeads * headDim),
        Output = w.Matrix(prefix + "attn_output.weight", heads * headDim, hidden),
        QueryNorm = gated ? w.Vector(prefix + "attn_q_norm.weight", headDim) : null,
        KeyNorm = gated ? w.Vector(prefix + "attn_k_norm.weight", headDim) : null,
        HeadGate = gated ? w.Matrix(prefix + "attn_gate.weight", hidden, heads) : null,
    };
}

/// <summary>
/// One pre-norm attention block: h ← h + Attn(RMSNorm(h)). Covers Llama (plain GQA) and Step 3.5
/// (QK-norm before RoPE, partial NeoX RoPE, sliding window, head-wise gate; spec §2.2 steps 1–7).
/// </summary>
public sealed class AttentionLayer
{
    private readonly CausalAttention _attention = new();

    public AttentionLayer(int layerIndex, AttentionWeights weights, int heads, int kvHeads, int headDim, int window, RotaryEmbedding rope, float epsilon)
    {
        LayerIndex = layerIndex;
        Weights = weights;
        Heads = heads;
        KvHeads = kvHeads;
        HeadDim = headDim;
        Window = window;
        Rope = rope;
        Epsilon = epsilon;
    }

    public int LayerIndex { get; }
    public AttentionWeights Weights { get; }
    public int Heads { get; }            // H
    public int KvHeads { get; }          // Hkv
    public int HeadDim { get; }          // dh
    public int Window { get; }           // 0 = full attention
    public RotaryEmbedding Rope { get; }
    public float Epsilon { get; }

    public LayerKvCache CreateCache(int contextLength, int maxBatchTokens, KvCacheType type) => new(KvHeads, HeadDim, contextLength, Window, maxBatchTokens, type);

    /// <summary>
    /// Adds the attention output of the step's rows to <c>b.Hidden</c>. Row t is a token at
    /// <c>rows.Positions[t]</c> whose sequence keeps this layer's K/V in <c>Caches[cacheIndex]</c>.
    /// </summary>
    public void Forward(KernelThreadPool pool, ForwardBuffers b, StepRows rows, int cacheIndex, IActivationSink? sink)
    {
        int tokens = rows.Count;
        int D = b.Dimensions.Hidden, H = Heads, dh = HeadDim, qw = H * dh, kvw = KvHeads * dh;
        int l = LayerIndex;
        Span<float> h = b.Hidden.AsSpan(0, tokens * D);
        Span<float> a = b.Normed.AsSpan(0, tokens * D);
        Span<float> q = b.Query.AsSpan(0, tokens * qw);
        Span<float> k = b.Key.AsSpan(0, tokens * kvw);
        Span<float> v = b.Value.AsSpan(0, tokens * kvw);
        Span<float> o = b.Attention.AsSpan(0, tokens * qw);

        sink?.Record($"attn_norm_in-{l}", h, D, tokens);
        // a = RMSNorm(h; attn_norm)
        for (int t = 0; t < tokens; t++) RmsNorm.Apply(h.Slice(t * D, D), Weights.Norm, a.Slice(t * D, D), Epsilon);
        sink?.Record($"attn_norm-{l}", a, D, tokens);

        // q = a·Wq, k = a·Wk, v = a·Wv and the head gate's logits a·Wg (used after attention), all from a.
        Span<float> g = b.Gate.AsSpan(0, Weights.HeadGate is null ? 0 : tokens * H);
        if (Weights.HeadGate is { } headGate)
            MatMul.ComputeSameInput(pool, a, tokens, Weights.Query, q, Weights.Key, k, Weights.Value, v, headGate, g);
        else
            MatMul.ComputeSameInput(pool, a, tokens, Weights.Query, q, Weights.Key, k, Weights.Value, v);

        // Per-head RMSNorm of q and k (Step 3.5: before RoPE), then RoPE at each token's position.
        if (Weights.QueryNorm is not null) RmsNorm.ApplyRows(q, tokens * H, Weights.QueryNorm, Epsilon);
        if (Weights.KeyNorm is not null) RmsNorm.ApplyRows(k, tokens * KvHeads, Weights.KeyNorm, Epsilon);
        for (int t = 0; t < tokens; t++)
        {
            Rope.Apply(q.Slice(t * qw, qw), H, dh, rows.Positions[t]);
            Rope.Apply(k.Slice(t * kvw, kvw), KvHeads, dh, rows.Positions[t]);
        }
        sink?.Record($"Qcur_pos-{l}", q, dh, H, tokens);
        sink?.Record($"Kcur_pos-{l}", k, dh, KvHeads, tokens);
        sink?.Record($"Vcur-{l}", v, kvw, tokens);

        // The step's keys go into the cache first, so each query sees itself and the earlier tokens of the step.
        for (int t = 0; t < tokens; t++)
        {
            rows.Sequences[t].Caches[cacheIndex].Write(rows.Positions[t], k.Slice(t * kvw, kvw), v.Slice(t * kvw, kvw));
        }
        _attention.Compute(pool, rows, cacheIndex, q, o, H, KvHeads);
        sink?.Record($"attn_out-{l}", o, qw, tokens);

        // Head-wise gate (spec §2.2 step 6): o_h ← o_h · sigmoid(a·Wg)_h, computed from the normed input a.
        if (Weights.HeadGate is not null)
        {
            Activations.Sigmoid(g, g);
            sink?.Record($"attn_gate_sigmoid-{l}", g, H, tokens);
            for (int t = 0; t < tokens; t++)
                for (int head = 0; head < H; head++)
                {
                    Span<float> oh = o.Slice((t * H + head) * dh, dh);
                    System.Numerics.Tensors.TensorPrimitives.Multiply(oh, g[t * H + head], oh);
                }
            sink?.Record($"attn_gated-{l}", o, qw, tokens);
        }

        // h ← h + o·Wo
        Span<float> proj = b.Projection.AsSpan(0, tokens * D);
        MatMul.Compute(pool, Weights.Output, 0, D, o, tokens, proj);
        sink?.Record($"attn_proj-{l}", proj, D, tokens);
        System.Numerics.Tensors.TensorPrimitives.Add(h, proj, h);
        sink?.Record($"ffn_inp-{l}", h, D, tokens);
    }
}
