using System.Numerics.Tensors;

namespace StepSharp.Kernels;

/// <summary>RMSNorm: y = x / sqrt(mean(x²) + eps) · w (spec §2.1; GGUF weights already hold the effective multiplier).</summary>
public static class RmsNorm
{
    /// <summary>Normalises one vector. <paramref name="weight"/> may be empty for an unweighted norm.</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> destination, float epsilon)
    {
        // The sum of squares is accumulated in double as ggml does: hidden sizes of 4096 and activations
        // of magnitude ~100 make a float sum lose digits the reference keeps.
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += (double)x[i] * x[i];
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
