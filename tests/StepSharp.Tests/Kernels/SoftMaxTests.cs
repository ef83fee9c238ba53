using System.Numerics.Tensors;
using StepSharp.Kernels;

namespace StepSharp.Tests.Kernels;

/// <summary><see cref="Activations.SoftMax"/>: TensorPrimitives' values where those are finite, and finite where they are not.</summary>
public class SoftMaxTests
{
    [Theory]
    [InlineData(1, 5f)]
    [InlineData(7, 5f)]
    [InlineData(16, 30f)]
    [InlineData(33, 59f)]
    [InlineData(257, 20f)]
    [InlineData(4097, 40f)]
    public void IsTensorPrimitivesSoftMaxBitForBitInTheSafeRange(int n, float spread)
    {
        var rng = new Random(n);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * spread;
        var expected = new float[n];
        TensorPrimitives.SoftMax(x, expected);
        var actual = (float[])x.Clone();
        Activations.SoftMax(actual, actual);   // in place, as attention calls it
        for (int i = 0; i < n; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{i} of {n}: {actual[i]} vs {expected[i]}");
    }

    [Theory]
    [InlineData(new float[] { 100f, 0f, 50f })]       // TensorPrimitives: NaN, 0, 0
    [InlineData(new float[] { 1000f, 1000f })]
    [InlineData(new float[] { -200f, -201f })]        // TensorPrimitives: NaN, NaN (0/0)
    [InlineData(new float[] { 61f, 60f, -1e30f })]
    public void StaysFiniteBeyondIt(float[] x)
    {
        var y = new float[x.Length];
        Activations.SoftMax(x, y);
        float max = x.Max();
        double sum = 0;
        foreach (float v in x) sum += Math.Exp((double)v - max);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Exp((double)x[i] - max) / sum;
            Assert.True(Math.Abs(y[i] - expected) <= 1e-6 * Math.Max(expected, 1e-30) + 1e-37, $"{i}: {y[i]} vs {expected}");
        }
    }
}
