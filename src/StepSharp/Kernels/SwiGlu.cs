using System.Runtime.Intrinsics;

namespace StepSharp.Kernels;

/// <summary>
/// SwiGLU with Step 3.5's optional clamp ("SwiGLU-step", spec §2.4): gate = min(silu(gate), L),
/// up = clamp(up, −L, L), out = gate ⊙ up. L = 0 means no clamp (plain SwiGLU).
/// Not the GPT-OSS variant: no α, no +1.
/// </summary>
public static class SwiGlu
{
    /// <summary>
    /// Computes the product in place into <paramref name="gate"/>: one pass, eight lanes at a time with the vector
    /// exp of System.Runtime.Intrinsics. TensorPrimitives has Sigmoid but no SiLU, and building one from it takes
    /// a scratch copy of the gate and three passes. The scalar loop with MathF.Exp this replaces was ~1 % of a mini decode step.
    /// </summary>
    public static void Apply(Span<float> gate, ReadOnlySpan<float> up, float limit)
    {
        Span<float> g = gate[..up.Length];
        bool clamp = limit > 0;
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> one = Vector256<float>.One, high = Vector256.Create(limit), low = -high;
            for (; i + 8 <= g.Length; i += 8)
            {
                Vector256<float> x = Vector256.Create(g.Slice(i, 8));
                Vector256<float> u = Vector256.Create(up.Slice(i, 8));
                Vector256<float> silu = x / (one + Vector256.Exp(-x));   // silu(g) = g · sigmoid(g)
                if (clamp)
                {
                    silu = Vector256.Min(silu, high);
                    u = Vector256.Min(Vector256.Max(u, low), high);
                }
                (silu * u).CopyTo(g.Slice(i, 8));
            }
        }
        for (; i < g.Length; i++)
        {
            float x = g[i], u = up[i];
            float silu = x / (1f + MathF.Exp(-x));
            if (clamp)
            {
                silu = MathF.Min(silu, limit);
                u = Math.Clamp(u, -limit, limit);
            }
            g[i] = silu * u;
        }
    }
}
