using StepSharp.Kernels;
using StepSharp.Kernels.Dot;
using StepSharp.Tensors;

namespace StepSharp.Tests.Kernels;

/// <summary>The int8-activation path: llama.cpp's activation rounding and the Q8_0 × Q8_0 integer dot.</summary>
public unsafe class Q8ActivationsTests
{
    [Fact]
    public void QuantizeFollowsLlamaCppRounding()
    {
        float[] x = RandomWeights.Vector(96, seed: 11, scale: 4f);
        x[5] = 0; x[40] = -x[41];                 // a zero and a mirrored pair
        for (int i = 64; i < 96; i++) x[i] = 0;   // an all-zero block: d = 0, q = 0
        var q = new sbyte[96];
        var d = new float[3];
        fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d)
            Q8Activations.Quantize(px, 96, pq, pd);
        for (int b = 0; b < 3; b++)
        {
            double max = 0;
            for (int i = 0; i < 32; i++) max = Math.Max(max, Math.Abs(x[32 * b + i]));
            Assert.Equal((float)(Half)(float)(max / 127), d[b]);
            for (int i = 0; i < 32; i++)
            {
                float v = max == 0 ? 0 : x[32 * b + i] * (127f / (float)max);
                Assert.Equal((int)Math.Round(v, MidpointRounding.ToEven), q[32 * b + i]);
            }
        }
        Assert.Equal(0, q[5]);
        Assert.Equal(-q[41], q[40]);

        var qs = new sbyte[96];
        var ds = new float[3];
        fixed (float* px = x) fixed (sbyte* pq = qs) fixed (float* pd = ds)
            Q8Activations.QuantizeScalar(px, 96, pq, pd);
        Assert.Equal(qs, q);
        Assert.Equal(ds, d);
    }

    public static TheoryData<Isa, int> Cases()
    {
        var data = new TheoryData<Isa, int>();
        foreach (Isa isa in KernelIsa.Supported())
            foreach (int blocks in new[] { 1, 3, 8, 33 })
                data.Add(isa, blocks);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DotMatchesTheDequantizedOperands(Isa isa, int blocks)
    {
        int n = 32 * blocks;
        byte[] row = RandomWeights.Rows(GgmlType.Q8_0, 1, n, seed: blocks);
        float[] x = RandomWeights.Vector(n, seed: 3 * blocks, scale: 2f);
        var q = new sbyte[n];
        var d = new float[blocks];
        var w = new float[n];
        Dequantize.Row(GgmlType.Q8_0, row, w);
        fixed (byte* pr = row) fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d)
        {
            Q8Activations.Quantize(px, n, pq, pd);
            // Independent value: both operands dequantized, dotted in double.
            double expected = 0, magnitude = 0;
            for (int i = 0; i < n; i++)
            {
                double term = (double)w[i] * (q[i] * (double)d[i / 32]);
                expected += term;
                magnitude += Math.Abs(term);
            }
            float actual = Q8Activations.Dot(isa, pr, pq, pd, n);
            Assert.True(Math.Abs(actual - expected) <= 1e-5 * magnitude, $"{isa}: {actual} vs {expected}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Q6_KDotMatchesTheDequantizedOperands(Isa isa, int blocks)
    {
        int n = 256 * blocks;
        byte[] row = RandomWeights.Rows(GgmlType.Q6_K, 1, n, seed: 7 * blocks);
        float[] x = RandomWeights.Vector(n, seed: 11 * blocks, scale: 2f);
        var q = new sbyte[n];
        var dq = new float[n / 32];
        var w = new float[n];
        Dequantize.Row(GgmlType.Q6_K, row, w); // the bit-exact reference decoder, not the kernel's unpacking
        fixed (byte* pr = row) fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = dq)
        {
            Q8Activations.Quantize(px, n, pq, pd);
            double expected = 0, magnitude = 0;
            for (int i = 0; i < n; i++)
            {
                double term = (double)w[i] * (q[i] * (double)dq[i / 32]);
                expected += term;
                magnitude += Math.Abs(term);
            }
            float actual = Q6_KQ8Dot.Dot(isa, pr, pq, pd, n);
            Assert.True(Math.Abs(actual - expected) <= 1e-5 * magnitude, $"{isa}: {actual} vs {expected} (Σ|terms| {magnitude})");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Q4_KDotIsWithinTheActivationRoundingOfTheExactDot(Isa isa, int blocks)
    {
        int n = 256 * blocks;
        byte[] row = RandomWeights.Rows(GgmlType.Q4_K, 1, n, seed: blocks);
        float[] x = RandomWeights.Vector(n, seed: 5 * blocks, scale: 2f);
        var q = new sbyte[n];
        var dq = new float[n / 32];
        var sums = new float[n / 32];
        var w = new float[n];
        Dequantize.Row(GgmlType.Q4_K, row, w);
        fixed (byte* pr = row) fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = dq) fixed (float* ps = sums)
        {
            Q8Activations.Quantize(px, n, pq, pd);
            Widen.GroupSums32(px, n, ps);
            // Rounding x to q·dx moves each product d1·n·x by at most d1·n·dx/2, and d1·n = w + m1 ≤ |w| + 63·|dmin|.
            double exact = 0, bound = 0, magnitude = 0;
            for (int i = 0; i < n; i++)
            {
                float dmin = (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(row, 144 * (i / 256) + 2));
                exact += (double)w[i] * x[i];
                magnitude += Math.Abs((double)w[i] * x[i]);
                bound += (Math.Abs(w[i]) + 63 * Math.Abs(dmin)) * dq[i / 32] / 2 + 1e-5 * Math.Abs(w[i] * x[i]);
            }
            float actual = Q4_KQ8Dot.Dot(isa, pr, pq, pd, ps, n);
            Assert.True(Math.Abs(actual - exact) <= bound, $"{isa}: {actual} vs exact {exact} (bound {bound})");
            // The tiers do the same exact integer sums; only the order of the float additions differs.
            float reference = Q4_KQ8Dot.Scalar(pr, pq, pd, ps, n);
            Assert.True(Math.Abs(actual - reference) <= 1e-5 * magnitude, $"{isa}: {actual} vs scalar reference {reference}");
        }
    }

    [Fact]
    public void EnableIsPerThreadAndScoped()
    {
        bool before = ActivationQuantization.Enabled;
        using (ActivationQuantization.Enable())
        {
            Assert.True(ActivationQuantization.Enabled);
            bool elsewhere = true;
            var other = new Thread(() => elsewhere = ActivationQuantization.Enabled);
            other.Start();
            other.Join();
            Assert.Equal(before, elsewhere);
        }
        Assert.Equal(before, ActivationQuantization.Enabled);
    }
}
