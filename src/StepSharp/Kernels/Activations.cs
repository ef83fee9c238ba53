using System.Numerics.Tensors;

namespace StepSharp.Kernels;

/// <summary>Small element-wise functions used by the models.</summary>
public static class Activations
{
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> destination)
    {
        for (int i = 0; i < x.Length; i++) destination[i] = 1f / (1f + MathF.Exp(-x[i]));
    }

    /// <summary>
    /// destination = softmax(x). <c>TensorPrimitives.SoftMax</c> (System.Numerics.Tensors 10 and 11) computes
    /// exp(x_i)/Σexp(x_j) without subtracting the maximum: any x_i above ~88.7 overflows to inf and every output
    /// becomes NaN (softmax([100, 0]) = [NaN, 0]), and when every x_i is below ~−87 the sum underflows. This gives
    /// the same values bit for bit where that form is safe (largest x between <see cref="SafeMin"/> and
    /// <see cref="SafeMax"/>: a test checks) with one exp a value instead of its two, and otherwise shifts by the
    /// maximum first, as ggml does. Keeping the unshifted form where it is safe keeps every result the engine gave
    /// before (the int8-activation conformance run against llama.cpp is chaotic in the last bit of these values).
    /// <paramref name="x"/> and <paramref name="destination"/> may be the same span.
    /// </summary>
    public static void SoftMax(ReadOnlySpan<float> x, Span<float> destination)
    {
        if (x.IsEmpty) throw new ArgumentException("softmax of no values", nameof(x));
        destination = destination[..x.Length];
        float max = TensorPrimitives.Max(x);
        if (max is >= SafeMin and <= SafeMax)
        {
            TensorPrimitives.Exp(x, destination);
        }
        else
        {
            TensorPrimitives.Subtract(x, max, destination);
            TensorPrimitives.Exp(destination, destination);
        }
        TensorPrimitives.Divide(destination, TensorPrimitives.Sum(destination), destination);
    }

    /// <summary>
    /// The range of the largest value in which exp(x)/Σexp(x) neither overflows nor loses the sum: e^60 leaves a factor
    /// of e^28 (over 10^12 values) below float's maximum for the sum, and e^−80 is still a normal float.
    /// </summary>
    public const float SafeMax = 60f, SafeMin = -80f;
}
