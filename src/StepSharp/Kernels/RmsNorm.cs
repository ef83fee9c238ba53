using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StepSharp.Kernels;

/// <summary>RMSNorm: y = x / sqrt(mean(x²) + eps) · w (spec §2.1; GGUF weights already hold the effective multiplier).</summary>
public static class RmsNorm
{
    /// <summary>Normalises one vector. <paramref name="weight"/> may be empty for an unweighted norm.</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> destination, float epsilon)
    {
        // The sum of squares is accumulated in double as ggml does: hidden sizes of 4096 and activations
        // of magnitude ~100 make a float sum lose digits the reference keeps.
        double sum = SumOfSquares(x);
        float scale = 1.0f / MathF.Sqrt((float)(sum / x.Length) + epsilon);
        if (weight.IsEmpty)
        {
            TensorPrimitives.Multiply(x, scale, destination);
        }
        else
        {
            TensorPrimitives.Multiply(x, scale, destination);
            TensorPrimitives.Multiply(destination[..x.Length], weight, destination);
        }
    }

    /// <summary>
    /// Σ x² in double, eight lanes at a time (each float square is exact in double, so only the order of the additions
    /// differs from a plain loop, ~1e-16 relative). The scalar loop's chain of dependent double additions took 1.5 %
    /// of a mini decode step (q/k norms of every head, twice per layer).
    /// </summary>
    internal static double SumOfSquares(ReadOnlySpan<float> x)
    {
        ref float start = ref MemoryMarshal.GetReference(x);
        int i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= 8)
        {
            Vector256<double> a0 = Vector256<double>.Zero, a1 = a0;
            for (; i <= x.Length - 8; i += 8)
            {
                (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(Vector256.LoadUnsafe(ref start, (nuint)i));
                a0 = Vector256.FusedMultiplyAdd(lo, lo, a0);
                a1 = Vector256.FusedMultiplyAdd(hi, hi, a1);
            }
            sum = Vector256.Sum(a0 + a1);
        }
        for (; i < x.Length; i++) sum += (double)x[i] * x[i];
        return sum;
    }

    /// <summary>Normalises each of the <c>rows</c> consecutive vectors of length <c>weight.Length</c> in place.</summary>
    public static void ApplyRows(Span<float> data, int rows, ReadOnlySpan<float> weight, float epsilon)
    {
        int n = weight.Length;
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = data.Slice(r * n, n);
            Apply(row, weight, row, epsilon);
        }
    }
}
