using StepSharp.Kernels;
using StepSharp.Models.Common;

namespace StepSharp.Models.Step35;

/// <summary>
/// One Step 3.5 decoder layer (spec §2.2): h ← h + GatedAttn(RMSNorm(h)); h ← h + FFN(RMSNorm(h)),
/// where FFN is a dense SwiGLU-step MLP or the MoE block.
/// </summary>
public sealed class Step35Layer
{
    public Step35Layer(int index, AttentionLayer attention, float[] ffnNorm, FeedForward? dense, Step35Moe? moe, float epsilon)
    {
        Index = index;
        Attention = attention;
        FfnNorm = ffnNorm;
        Dense = dense;
        Moe = moe;
        Epsilon = epsilon;
        if ((dense is null) == (moe is null)) throw new ArgumentException($"layer {index} needs exactly one of a dense FFN and an MoE block");
    }

    public int Index { get; }
    public AttentionLayer Attention { get; }
    public float[] FfnNorm { get; }       // (D) post_attention_layernorm
    public FeedForward? Dense { get; }
    public Step35Moe? Moe { get; }
    public float Epsilon { get; }

    /// <param name="cacheIndex">Which of each sequence's caches holds this layer's K/V.</param>
    public void Forward(KernelThreadPool pool, ForwardBuffers b, StepRows rows, int cacheIndex, IActivationSink? sink)
    {
        int tokens = rows.Count;
        Attention.Forward(pool, b, rows, cacheIndex, sink);

        int D = b.Dimensions.Hidden;
        Span<float> h = b.Hidden.AsSpan(0, tokens * D);
        Span<float> f = b.Normed.AsSpan(0, tokens * D);
        for (int t = 0; t < tokens; t++) RmsNorm.Apply(h.Slice(t * D, D), FfnNorm, f.Slice(t * D, D), Epsilon);
        sink?.Record($"ffn_norm-{Index}", f, D, tokens);

        Span<float> y = b.FeedForwardOut.AsSpan(0, tokens * D);
        if (Moe is not null) Moe.Forward(pool, b, tokens, sink);
        else Dense!.Forward(pool, f, y, tokens, b.FeedForwardGate, b.FeedForwardUp);
        sink?.Record($"ffn_out-{Index}", y, D, tokens);
        System.Numerics.Tensors.TensorPrimitives.Add(h, y, h);
    }
}
