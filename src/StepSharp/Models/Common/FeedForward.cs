using StepSharp.Kernels;
using StepSharp.Tensors;

namespace StepSharp.Models.Common;

/// <summary>
/// A SwiGLU feed-forward network y = (act(x·Wgate) ⊙ clamp(x·Wup))·Wdown over a block of rows of its weight
/// tensors, so one class serves dense MLPs, shared experts and each routed expert of a 3-D expert tensor
/// (spec §2.4).
/// </summary>
public sealed class FeedForward
{
    public FeedForward(TensorView gate, TensorView up, TensorView down, int hiddenSize, int feedForwardSize, float swiGluLimit)
    {
        Gate = gate;
        Up = up;
        Down = down;
        HiddenSize = hiddenSize;
        FeedForwardSize = feedForwardSize;
        SwiGluLimit = swiGluLimit;
    }

    public TensorView Gate { get; }     // (ff, D) or (E·ff, D) for experts
    public TensorView Up { get; }       // (ff, D) or (E·ff, D)
    public TensorView Down { get; }     // (D, ff) or (E·D, ff)
    public int HiddenSize { get; }      // D
    public int FeedForwardSize { get; } // ff
    public float SwiGluLimit { get; }   // 0 = no clamp

    /// <summary>output[t] = FFN_e(input[t]) for t &lt; tokens, with e selecting the expert (0 for a dense FFN).</summary>
    public void Forward(KernelThreadPool pool, ReadOnlySpan<float> input, Span<float> output, int tokens, Span<float> gateScratch, Span<float> upScratch, int expert = 0)
    {
        int ff = FeedForwardSize;
        Span<float> g = gateScratch[..(tokens * ff)];
        Span<float> u = upScratch[..(tokens * ff)];
        if (IsWhole)
        {
            MatMul.ComputeSameInput(pool, input, tokens, Gate, g, Up, u);   // a dense FFN or shared expert: one fork/join
        }
        else
        {
            MatMul.Compute(pool, Gate, (long)expert * ff, ff, input, tokens, g);
            MatMul.Compute(pool, Up, (long)expert * ff, ff, input, tokens, u);
        }
        ActivateAndProject(pool, g, u, output, tokens, expert);
    }

    /// <summary>True when the gate and up tensors hold just this FFN (not a stack of experts).</summary>
    private bool IsWhole => Gate.RowCount == FeedForwardSize && Up.RowCount == FeedForwardSize;

    private void ActivateAndProject(KernelThreadPool pool, Span<float> g, Span<float> u, Span<float> output, int tokens, int expert)
    {
        SwiGlu.Apply(g, u, SwiGluLimit);
        MatMul.Compute(pool, Down, (long)expert * HiddenSize, HiddenSize, g, tokens, output);
    }
}
