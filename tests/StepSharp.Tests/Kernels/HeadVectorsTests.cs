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

    /// <summary>The several-head forms (two heads per key or value load) give each head exactly what the one-head loops give.</summary>
    [Theory]
    [InlineData(8, 1)]
    [InlineData(16, 2)]
    [InlineData(24, 3)]
    [InlineData(128, 8)]
    [InlineData(130, 5)]
    [InlineData(40, 12)]
    public void SeveralHeadsAreEachHeadBitForBit(int n, int heads)
    {
        const int maxCount = 9, stride = 11;   // scores (weights) of a head stride apart, as in a block's score rows
        float[] q = RandomWeights.Vector(heads * n, seed: 800 + n), k = RandomWeights.Vector(maxCount * n, seed: 900 + n);
        float[] weights = RandomWeights.Vector(heads * stride, seed: 1000 + n);
        for (int count = 1; count <= maxCount; count++)
        {
            var scores = new float[heads * stride];
            var single = new float[maxCount];
            float[] o = RandomWeights.Vector(heads * n, seed: 1100 + count), expected = (float[])o.Clone();
            fixed (float* pq = q) fixed (float* pk = k) fixed (float* ps = scores) fixed (float* p1 = single)
            fixed (float* pw = weights) fixed (float* po = o) fixed (float* pe = expected)
            {
                HeadVectors.Scores(pq, heads, pk, n, count, ps, stride, 0.125f);
                HeadVectors.AccumulateWeighted(po, heads, pw, stride, pk, n, count);
                for (int h = 0; h < heads; h++)
                {
                    HeadVectors.Scores(pq + h * n, pk, n, count, p1, 0.125f);
                    for (int j = 0; j < count; j++)
                        Assert.True(BitConverter.SingleToInt32Bits(p1[j]) == BitConverter.SingleToInt32Bits(scores[h * stride + j]), $"head {h} key {j} of {count}: {scores[h * stride + j]} vs {p1[j]}");
                    HeadVectors.AccumulateWeighted(pe + h * n, pw + h * stride, pk, n, count);
                }
            }
            for (int i = 0; i < heads * n; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(o[i]), $"output {i} (head {i / n}), {count} rows: {o[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void FiniteHalfToSingleIsExactForEveryFinitePattern()
    {
        var bits = new List<ushort>();
        for (int i = 0; i < 65536; i++)
            if ((i & 0x7c00) != 0x7c00) bits.Add((ushort)i);
        for (int i = 0; i < 8 + 3; i++) bits.Add((ushort)(0x3c00 + i));   // tails for the 8-wide and the scalar loops
        ushort[] b = bits.ToArray();
        var f = new float[b.Length];
        fixed (ushort* pb = b) fixed (float* pf = f) HeadVectors.FiniteHalfToSingle(pb, pf, b.Length);
        for (int i = 0; i < b.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits((float)BitConverter.UInt16BitsToHalf(b[i])) == BitConverter.SingleToInt32Bits(f[i]), $"0x{b[i]:X4}: {f[i]}");
    }
}
