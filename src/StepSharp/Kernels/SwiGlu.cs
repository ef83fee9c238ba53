using System.Numerics.Tensors;

namespace StepSharp.Kernels;

/// <summary>
/// SwiGLU with Step 3.5's optional clamp ("SwiGLU-step", spec §2.4): gate = min(silu(gate), L),
/// up = clamp(up, −L, L), out = gate ⊙ up. L = 0 means no clamp (plain SwiGLU).
/// Not the GPT-OSS variant: no α, no +1.
/// </summary>
public static class SwiGlu
{
    /// <summary>Computes the product in place into <paramref name="gate"/>.</summary>
    public static void Apply(Span<float> gate, ReadOnlySpan<float> up, float limit)
    {
        // silu(g) = g · sigmoid(g)
        Span<float> g = gate[..up.Length];
        for (int i = 0; i < g.Length; i++)
        {
            float x = g[i];
            g[i] = x / (1f + MathF.Exp(-x));
        }
        if (limit > 0)
        {
            for (int i = 0; i < g.Length; i++)
            {
                float s = MathF.Min(g[i], limit);
                float u = Math.Clamp(up[i], -limit, limit);
                g[i] = s * u;
            }
        }
        else
        {
            TensorPrimitives.Multiply(g, up, g);
        }
    }
}
