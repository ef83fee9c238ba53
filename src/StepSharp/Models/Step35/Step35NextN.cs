using StepSharp.Kernels;
using StepSharp.Models.Common;
using StepSharp.Tensors;

namespace StepSharp.Models.Step35;

/// <summary>
/// One MTP (NextN) head (spec §3.1–3.2): its own decoder block plus enorm/hnorm, the [embedding ; hidden]
/// projection and a private output head. A row takes token x_p and the hidden state h_{p−1}:
/// z = W_eh · [RMSNorm(Embed[x_p]; enorm) ; RMSNorm(h_{p−1}; hnorm)], then the block; the block output is the
/// next step's hidden input, and RMSNorm(·; shared_head_norm) · shared_head_head gives the draft logits.
/// </summary>
public sealed class Step35NextN
{
    public Step35NextN(Step35Layer block, WeightLoader w, int layer, int hidden, int vocab)
    {
        string p = $"blk.{layer}.nextn.";
        Block = block;
        EmbeddingNorm = w.Vector(p + "enorm.weight", hidden);
        HiddenNorm = w.Vector(p + "hnorm.weight", hidden);
        Projection = w.Matrix(p + "eh_proj.weight", 2L * hidden, hidden);
        // Older conversions lack the private head; llama.cpp then falls back to the trunk's (spec §3.1).
        HeadNorm = w.OptionalVector(p + "shared_head_norm.weight", hidden);
        Head = w.OptionalMatrix(p + "shared_head_head.weight", hidden, vocab);
    }

    public Step35Layer Block { get; }
    public float[] EmbeddingNorm { get; }   // (D) enorm
    public float[] HiddenNorm { get; }      // (D) hnorm
    public TensorView Projection { get; }   // (D, 2D) eh_proj: embedding half first
    public float[]? HeadNorm { get; }       // (D) shared_head_norm
    public TensorView? Head { get; }        // (V, D) shared_head_head

    /// <summary>Leaves the block outputs of the rows in <c>b.Hidden</c>.</summary>
    internal void Forward(KernelThreadPool pool, ForwardBuffers b, StepRows rows, int cacheIndex, ReadOnlySpan<float> hiddenIn,
        in TensorView embedding, float epsilon, IActivationSink? sink)
    {
        int T = rows.Count, D = b.Dimensions.Hidden;
        string l = $"-{Block.Index}";
        Span<float> cat = b.NextNInput.AsSpan(0, T * 2 * D);
        Span<float> e = b.Normed.AsSpan(0, T * D);
        for (int t = 0; t < T; t++)
        {
            // [RMSNorm(Embed[x]; enorm) ; RMSNorm(h; hnorm)] — embedding half first (spec §3.2 step 2)
            embedding.DequantizeRow(rows.Tokens[t], e.Slice(t * D, D));
            RmsNorm.Apply(e.Slice(t * D, D), EmbeddingNorm, cat.Slice(t * 2 * D, D), epsilon);
            RmsNorm.Apply(hiddenIn.Slice(t * D, D), HiddenNorm, cat.Slice(t * 2 * D + D, D), epsilon);
        }
        sink?.Record("mtp_concat" + l, cat, 2 * D, T);
        MatMul.Compute(pool, Projection, 0, D, cat, T, b.Hidden.AsSpan(0, T * D));
        sink?.Record("mtp_eh_proj" + l, b.Hidden.AsSpan(0, T * D), D, T);
        Block.Forward(pool, b, rows, cacheIndex, sink);
    }

    /// <summary>Logits of the rows left in <c>b.Hidden</c> by <see cref="Forward"/>; the trunk's norm and head stand in when the file has no private ones.</summary>
    internal void Logits(KernelThreadPool pool, ForwardBuffers b, int rows, float[] trunkNorm, in TensorView trunkHead, float epsilon, Span<float> logits)
    {
        int D = b.Dimensions.Hidden;
        float[] norm = HeadNorm ?? trunkNorm;
        TensorView head = Head ?? trunkHead;
        Span<float> normed = b.Normed.AsSpan(0, rows * D);
        for (int t = 0; t < rows; t++) RmsNorm.Apply(b.Hidden.AsSpan(t * D, D), norm, normed.Slice(t * D, D), epsilon);
        MatMul.Compute(pool, head, 0, (int)head.RowCount, normed, rows, logits);
    }
}
