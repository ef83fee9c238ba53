using StepSharp.Kernels;

namespace StepSharp.Tests.Kernels;

/// <summary>The per-head attention loops against plain references, at head sizes around the vector widths.</summary>
public unsafe class HeadVectorsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(16)]
    [InlineData(24)]
    [InlineData(128)]
    [InlineData(130)]
    public void DotAndMultiplyAddMatchTheReference(int n)
    {
        float[] a = RandomWeights.Vector(n, seed: n), b = RandomWeights.Vector(n, seed: 100 + n);
        float[] y = RandomWeights.Vector(n, seed: 200 + n);
        var expectedY = new float[n];
        double dot = 0, magnitude = 0;
        for (int i = 0; i < n; i++)
        {
            dot += (double)a[i] * b[i];
            magnitude += Math.Abs((double)a[i] * b[i]);
            expectedY[i] = y[i] + 0.75f * a[i];
        }
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* py = y)
        {
            Assert.True(Math.Abs(HeadVectors.Dot(pa, pb, n) - dot) <= 1e-6 * magnitude + 1e-7);
            HeadVectors.MultiplyAdd(pa, 0.75f, py, n);
        }
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(expectedY[i] - y[i]) <= 1e-6f * (Math.Abs(expectedY[i]) + 1), $"{i}: {y[i]} vs {expectedY[i]}");
    }

    [Theory]
    [InlineData(8)]
    [InlineData(12)]
    [InlineData(16)]
    [InlineData(24)]
    [InlineData(128)]
    [InlineData(130)]
    public void ScoresAreDotTimesScaleBitForBit(int n)
    {
        float[] q = RandomWeights.Vector(n, seed: 300 + n), k = RandomWeights.Vector(9 * n, seed: 400 + n);
        var scores = new float[9];
        fixed (float* pq = q) fixed (float* pk = k) fixed (float* ps = scores)
            for (int count = 1; count <= 9; count++)
            {
                HeadVectors.Scores(pq, pk, n, count, ps, 0.125f);
                for (int j = 0; j < count; j++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(HeadVectors.Dot(pq, pk + j * n, n) * 0.125f), BitConverter.SingleToInt32Bits(scores[j]));
            }
    }

    [Theory]
    [InlineData(8, 5)]
    [InlineData(40, 3)]
    [InlineData(128, 7)]
    [InlineData(131, 2)]
    public void AccumulateWeightedIsMultiplyAddRowAfterRow(int n, int count)
    {
        float[] v = RandomWeights.Vector(count * n, seed: 500 + n), w = RandomWeights.Vector(count, seed: 600 + n);
        float[] o = RandomWeights.Vector(n, seed: 700 + n), expected = (float[])o.Clone();
        fixed (float* pv = v) fixed (float* pw = w) fixed (float* po = o) fixed (float* pe = expected)
        {
            HeadVectors.AccumulateWeighted(po, pw, pv, n, count);
            for (int j = 0; j < count; j++) HeadVectors.MultiplyAdd(pv + j * n, pw[j], pe, n);
        }
        for (int i = 0; i < n; i++)
            Assert.True(i >= n / 8 * 8 ? Math.Abs(expected[i] - o[i]) <= 1e-5f * (Math.Abs(expected[i]) + 1) : expected[i] == o[i], $"{i}: {o[i]} vs {expected[i]}");
    }

    [Fact]
    public void HalfToSingleIsExactForEveryBitPattern()
    {
        var bits = new ushort[65536 + 8 + 3];   // every pattern, then tails for the 8-wide and the scalar loops
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        var f = new float[bits.Length];
        fixed (ushort* pb = bits) fixed (float* pf = f) HeadVectors.HalfToSingle(pb, pf, bits.Length);
        for (int i = 0; i < bits.Length; i++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf(bits[i]);
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(f[i]), $"0x{bits[i]:X4}");
            else Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(f[i]));
        }
    }
}
