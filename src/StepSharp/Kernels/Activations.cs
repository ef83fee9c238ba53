namespace StepSharp.Kernels;

/// <summary>Small element-wise functions used by the models.</summary>
public static class Activations
{
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> destination)
    {
        for (int i = 0; i < x.Length; i++) destination[i] = 1f / (1f + MathF.Exp(-x[i]));
    }
}
