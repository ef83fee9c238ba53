using StepSharp.Models.Common;
using StepSharp.Tensors;

namespace StepSharp.Models.Step35;

/// <summary>
/// One MTP (NextN) head (spec §3.1): its own decoder block plus enorm/hnorm, the [embedding ; hidden]
/// projection and a private output head. Loaded and shape-checked; the draft computation (spec §3.2)
/// is not run yet.
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
}
