using StepSharp.Kernels;
using StepSharp.Kernels.Dot;
using StepSharp.Tensors;
using StepSharp.Tensors.Blocks;

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

    [Fact]
    public void VectorQuantizeEqualsTheScalarOneOnLongVectors()
    {
        // 300 blocks: the fp16 rounding of the scales runs in chunks of 256; magnitudes spread over 2⁻¹⁰..2¹⁰.
        const int n = 32 * 300;
        float[] x = RandomWeights.Vector(n, seed: 12);
        for (int b = 0; b < 300; b++)
            for (int i = 0; i < 32; i++) x[32 * b + i] *= MathF.Pow(2, b % 21 - 10);
        var (q, d) = (new sbyte[n], new float[300]);
        var (qs, ds) = (new sbyte[n], new float[300]);
        fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d) fixed (sbyte* pqs = qs) fixed (float* pds = ds)
        {
            Q8Activations.Quantize(px, n, pq, pd);
            Q8Activations.QuantizeScalar(px, n, pqs, pds);
        }
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

    [Fact]
    public void Rows4IsBitIdenticalToFourSingleRowDots()
    {
        // 11 blocks: one group of 8 with the batched scale conversion, then 3 single blocks.
        int n = 32 * 11;
        byte[] rows = RandomWeights.Rows(GgmlType.Q8_0, 5, n, seed: 21);
        float[] x = RandomWeights.Vector(n, seed: 22, scale: 3f);
        var q = new sbyte[n];
        var d = new float[n / 32];
        var y = new float[5];
        int rowBytes = rows.Length / 5;
        fixed (byte* pr = rows) fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d) fixed (float* py = y)
        {
            Q8Activations.Quantize(px, n, pq, pd);
            Q8Activations.Avx2Rows4(pr + rowBytes, rowBytes, pq, pd, n, py + 1);   // rows 1..4, not 0..3
            for (int r = 1; r < 5; r++)
                Assert.Equal(Q8Activations.Avx2(pr + r * rowBytes, pq, pd, n), py[r]);
        }
    }

    [Fact]
    public void Q8KQuantizeFollowsLlamaCppReference()
    {
        float[] x = RandomWeights.Vector(1024, seed: 31, scale: 4f);
        x[7] = -9f;                                // block 0: the largest magnitude is negative
        x[256 + 3] = 9f; x[256 + 200] = -9f;      // block 1: a tie, the first one (positive) wins
        for (int i = 512; i < 768; i++) x[i] = 0;  // block 2: all zero
        var q = new sbyte[1024];
        var d = new float[4];
        var sums = new short[64];
        fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d) fixed (short* ps = sums)
            Q8KActivations.Quantize(px, 1024, pq, pd, ps);
        Assert.Equal(1f / (-127f / -9f), d[0]);
        Assert.Equal(-127, q[7]);                  // −9 · (−127/−9): the extreme keeps its sign when it is negative, d > 0
        Assert.Equal(1f / (-127f / 9f), d[1]);
        Assert.True(d[1] < 0);
        Assert.Equal(-127, q[256 + 3]);
        Assert.Equal(127, q[256 + 200]);
        Assert.Equal(0f, d[2]);
        for (int b = 0; b < 4; b++)
        {
            if (b == 2) continue;
            float iscale = 1 / d[b];
            for (int i = 0; i < 256; i++)
                Assert.Equal(Math.Min(127, (int)MathF.Round(x[256 * b + i] * iscale, MidpointRounding.ToEven)), q[256 * b + i]);
        }
        for (int k = 0; k < 64; k++)
        {
            int s = 0;
            for (int i = 0; i < 16; i++) s += q[16 * k + i];
            Assert.Equal(s, sums[k]);
        }
        for (int i = 512; i < 768; i++) Assert.Equal(0, q[i]);

        var qs = new sbyte[1024];
        var ds = new float[4];
        var ss = new short[64];
        fixed (float* px = x) fixed (sbyte* pq = qs) fixed (float* pd = ds) fixed (short* ps = ss)
            Q8KActivations.QuantizeScalar(px, 1024, pq, pd, ps);
        Assert.Equal(qs, q);
        Assert.Equal(ds, d);
        Assert.Equal(ss, sums);
    }

    public static TheoryData<Isa, int> KCases()
    {
        var data = new TheoryData<Isa, int>();
        foreach (Isa isa in KernelIsa.Supported())
            foreach (int blocks in new[] { 1, 3, 8, 9, 17 })
                data.Add(isa, blocks);
        return data;
    }

    /// <summary>Rounds x to Q8_K and returns (q, d, bsums) for the K-quant kernels.</summary>
    private static (sbyte[] Q, float[] D, short[] Sums) RoundToQ8K(float[] x)
    {
        var q = new sbyte[x.Length];
        var d = new float[x.Length / 256];
        var sums = new short[x.Length / 16];
        fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d) fixed (short* ps = sums)
            Q8KActivations.Quantize(px, x.Length, pq, pd, ps);
        return (q, d, sums);
    }

    [Theory]
    [MemberData(nameof(KCases))]
    public void Q6_KDotMatchesTheDequantizedOperands(Isa isa, int blocks)
    {
        int n = 256 * blocks;
        byte[] row = RandomWeights.Rows(GgmlType.Q6_K, 1, n, seed: 7 * blocks);
        float[] x = RandomWeights.Vector(n, seed: 11 * blocks, scale: 2f);
        var w = new float[n];
        Dequantize.Row(GgmlType.Q6_K, row, w); // the bit-exact reference decoder, not the kernel's unpacking
        var (q, dq, sums) = RoundToQ8K(x);
        fixed (byte* pr = row) fixed (sbyte* pq = q) fixed (float* pd = dq) fixed (short* ps = sums)
        {
            double expected = 0, magnitude = 0;
            for (int i = 0; i < n; i++)
            {
                double term = (double)w[i] * (q[i] * (double)dq[i / 256]);
                expected += term;
                magnitude += Math.Abs(term);
            }
            float actual = Q6_KQ8Dot.Dot(isa, pr, pq, pd, ps, n);
            Assert.True(Math.Abs(actual - expected) <= 1e-5 * magnitude, $"{isa}: {actual} vs {expected} (Σ|terms| {magnitude})");
            // Same exact integer sums per super-block on every tier; only the float additions' order differs.
            float reference = Q6_KQ8Dot.Scalar(pr, pq, pd, ps, n);
            Assert.True(Math.Abs(actual - reference) <= 1e-5 * magnitude, $"{isa}: {actual} vs scalar reference {reference}");
        }
    }

    [Theory]
    [MemberData(nameof(KCases))]
    public void Q4_KDotMatchesTheDequantizedOperands(Isa isa, int blocks)
    {
        int n = 256 * blocks;
        byte[] row = RandomWeights.Rows(GgmlType.Q4_K, 1, n, seed: blocks);
        float[] x = RandomWeights.Vector(n, seed: 5 * blocks, scale: 2f);
        var w = new float[n];
        Dequantize.Row(GgmlType.Q4_K, row, w);
        var (q, dq, sums) = RoundToQ8K(x);
        fixed (byte* pr = row) fixed (sbyte* pq = q) fixed (float* pd = dq) fixed (short* ps = sums)
        {
            // Independent value: the bit-exact decoded weights times the rounded activations, in double. The
            // kernel's d·dx·I − dmin·dx·M differs from it only by float rounding of those two products per block.
            double expected = 0, magnitude = 0;
            for (int i = 0; i < n; i++)
            {
                double term = (double)w[i] * (q[i] * (double)dq[i / 256]);
                expected += term;
                magnitude += Math.Abs(term);
            }
            float actual = Q4_KQ8Dot.Dot(isa, pr, pq, pd, ps, n);
            Assert.True(Math.Abs(actual - expected) <= 1e-5 * magnitude, $"{isa}: {actual} vs {expected} (Σ|terms| {magnitude})");
            float reference = Q4_KQ8Dot.Scalar(pr, pq, pd, ps, n);
            Assert.True(Math.Abs(actual - reference) <= 1e-5 * magnitude, $"{isa}: {actual} vs scalar reference {reference}");
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, 1, true)]
    [InlineData(GgmlType.Q4_K, 4, true)]
    [InlineData(GgmlType.Q4_K, 5, true)]
    [InlineData(GgmlType.Q4_K, 1, false)]
    [InlineData(GgmlType.Q4_K, 5, false)]
    [InlineData(GgmlType.Q6_K, 1, false)]
    [InlineData(GgmlType.Q6_K, 4, false)]
    [InlineData(GgmlType.Q6_K, 5, false)]
    [InlineData(GgmlType.Q6_K, 5, true)]
    public void InterleavedKernelsGiveTheSumsOfTheFileTypesOnTheRowsTheyWereMadeFrom(GgmlType fileType, int blocks, bool gfni)
    {
        // Eight rows in the file type and in the interleaved layout made from them (two groups of four), the
        // activations permuted to match (both layouts read the same permuted copy). The scalar forms compute the same
        // integers and float operations per super-block, so they must equal the file type's scalar kernel exactly; the
        // four-row kernel, run on the second group only, just adds its lanes in another order. Both kernels run both
        // ways of cutting bit fields (GFNI, shifts).
        if (gfni && !System.Runtime.Intrinsics.X86.Gfni.V256.IsSupported) return;
        GgmlType layout = StepSharp.Kernels.KernelWeightLayouts.LayoutFor(fileType, 256, 8);
        int n = 256 * blocks;
        byte[] original = RandomWeights.Rows(fileType, 8, n, seed: 60 + blocks);
        byte[] interleaved = RandomWeights.Rows(layout, 8, n, seed: 60 + blocks);
        float[] x = RandomWeights.Vector(n, seed: 61 + blocks, scale: 2f);
        var (q, dq, sums) = RoundToQ8K(x);
        var permuted = new sbyte[n];
        var y = new float[8];
        int rowBytes = original.Length / 8;
        fixed (byte* pk = original) fixed (byte* pi = interleaved) fixed (sbyte* pq = q) fixed (sbyte* pp = permuted)
        fixed (float* pd = dq) fixed (short* ps = sums) fixed (float* py = y)
        {
            Q4_KInterleavedQ8Dot.PermuteActivations(pq, pp, n);
            bool vector = KernelIsa.IsSupported(Isa.Avx2);
            byte* group = pi + 4 * rowBytes;
            if (vector && fileType == GgmlType.Q4_K && gfni) Q4_KInterleavedQ8Dot.Avx2Rows4<AffineBits>(group, pp, pd, ps, n, py + 4);
            else if (vector && fileType == GgmlType.Q4_K) Q4_KInterleavedQ8Dot.Avx2Rows4<ShiftedBits>(group, pp, pd, ps, n, py + 4);
            else if (vector && gfni) Q6_KInterleavedQ8Dot.Avx2Rows4<AffineBits>(group, pp, pd, ps, n, py + 4);
            else if (vector) Q6_KInterleavedQ8Dot.Avx2Rows4<ShiftedBits>(group, pp, pd, ps, n, py + 4);
            for (int r = 0; r < 8; r++)
            {
                // Row r's first block: its group's start, then r mod 4 blocks in (the rows of a group take turns).
                byte* fileRow = pk + r * rowBytes, row = pi + r / 4 * 4 * rowBytes + r % 4 * GgmlTypeInfo.BlockBytes(layout);
                float reference = fileType == GgmlType.Q4_K ? Q4_KQ8Dot.Scalar(fileRow, pq, pd, ps, n) : Q6_KQ8Dot.Scalar(fileRow, pq, pd, ps, n);
                Assert.Equal(reference, fileType == GgmlType.Q4_K ? Q4_KInterleavedQ8Dot.Scalar(row, r % 4, pp, pd, ps, n) : Q6_KInterleavedQ8Dot.Scalar(row, pp, pd, ps, n));
                if (r < 4) Assert.Equal(0f, y[r]);
                else if (vector)
                    Assert.True(Math.Abs(y[r] - reference) <= 1e-5 * Math.Max(1, Math.Abs(reference)) + 1e-4, $"row {r}: {y[r]} vs scalar {reference}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    public void Q8_0GroupedRows4IsBitIdenticalToTheQ8_0KernelOnTheRowsItWasMadeFrom(int groups)
    {
        // Rows 4..7 of 8 (the second row group): the same float operations in the same order as
        // Q8Activations.Avx2Rows4, only the loads differ; the one-row form against the scalar reference on every row.
        if (!KernelIsa.IsSupported(Isa.Avx2)) return;
        int n = 256 * groups;
        byte[] original = RandomWeights.Rows(GgmlType.Q8_0, 8, n, seed: 80 + groups);
        byte[] grouped = RandomWeights.Rows(GgmlType.Q8_0Grouped, 8, n, seed: 80 + groups);
        float[] x = RandomWeights.Vector(n, seed: 81 + groups, scale: 2f);
        var q = new sbyte[n];
        var d = new float[n / 32];
        float[] expected = new float[8], actual = new float[8];
        int rowBytes = original.Length / 8;
        fixed (byte* pk = original) fixed (byte* pg = grouped) fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d)
        fixed (float* pe = expected) fixed (float* pa = actual)
        {
            Q8Activations.Quantize(px, n, pq, pd);
            Q8Activations.Avx2Rows4(pk + 4 * rowBytes, rowBytes, pq, pd, n, pe + 4);
            Q8_0GroupedQ8Dot.Avx2Rows4(pg + 4 * rowBytes, pq, pd, n, pa + 4);
            Assert.Equal(expected, actual);
            for (int r = 0; r < 8; r++)
            {
                float reference = Q8Activations.Scalar(pk + r * rowBytes, pq, pd, n);
                float one = Q8_0GroupedQ8Dot.Dot(KernelIsa.Current, pg + r / 4 * 4 * rowBytes + r % 4 * 272, pq, pd, n);
                Assert.True(Math.Abs(one - reference) <= 1e-5 * Math.Max(1, Math.Abs(reference)) + 1e-4, $"row {r}: {one} vs scalar {reference}");
            }
        }
    }

    [Fact]
    public void TheGroupedQ8_0KernelReadsEveryFiniteScale()
    {
        // As the K-quant test below: the grouped Q8_0 kernel's fp16 conversion of d against the exact one, every class of finite value.
        if (!KernelIsa.IsSupported(Isa.Avx2)) return;
        ushort[] halves = [0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x83ff, 0x0400, 0x8400, 0x7bff, 0xfbff, 0x3c00, 0xb555, 0x2e66];
        const int n = 512;
        byte[] file = RandomWeights.Rows(GgmlType.Q8_0, 4, n, seed: 72);
        int rowBytes = file.Length / 4;
        for (int b = 0; b < 4 * n / 32; b++)
        {
            ushort d = halves[b % halves.Length];
            file[b * 34] = (byte)d; file[b * 34 + 1] = (byte)(d >> 8);
        }
        byte[] grouped = (byte[])file.Clone();
        float[] x = RandomWeights.Vector(n, seed: 73, scale: 3f);
        var q = new sbyte[n];
        var dq = new float[n / 32];
        var y = new float[4];
        fixed (byte* pk = file) fixed (byte* pg = grouped) fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = dq) fixed (float* py = y)
        {
            Q8Activations.Quantize(px, n, pq, pd);
            StepSharp.Tensors.Blocks.InMemoryLayouts.FromFileLayout(GgmlType.Q8_0Grouped, pg, 4, rowBytes);
            Q8_0GroupedQ8Dot.Avx2Rows4(pg, pq, pd, n, py);
            for (int r = 0; r < 4; r++)
            {
                float reference = Q8Activations.Dot(Isa.Scalar, pk + r * rowBytes, pq, pd, n);
                Assert.True(float.IsFinite(reference), $"row {r}: the reference itself is {reference}");
                Assert.True(Math.Abs(y[r] - reference) <= 1e-5 * Math.Max(1, Math.Abs(reference)), $"row {r}: {y[r]} vs scalar {reference}");
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_K, 0, 2)]     // d, dmin
    [InlineData(GgmlType.Q6_K, 208, -1)]  // d (this kernel converts it exactly)
    public void TheInterleavedKQuantKernelsReadEveryFiniteScale(GgmlType fileType, int dAt, int dminAt)
    {
        // The Q4_K four-row kernel turns d and dmin from fp16 with a shift and exact power-of-two multiplications (no
        // inf/NaN case): zeros, subnormals, the normal limits and negatives must give the scalar reference's sums.
        if (!KernelIsa.IsSupported(Isa.Avx2)) return;
        ushort[] halves = [0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x83ff, 0x0400, 0x8400, 0x7bff, 0xfbff, 0x3c00, 0xb555, 0x2e66];
        const int blocks = 4, n = 256 * blocks;
        bool q4 = fileType == GgmlType.Q4_K;
        int blockBytes = q4 ? 144 : 210;
        byte[] file = RandomWeights.Rows(fileType, 4, n, seed: q4 ? 70 : 74);
        int rowBytes = file.Length / 4;
        for (int i = 0; i < 4 * blocks; i++)   // block i: row i / blocks, block i % blocks
        {
            ushort d = halves[i % halves.Length], dmin = halves[(3 * i + 5) % halves.Length];
            file[i * blockBytes + dAt] = (byte)d; file[i * blockBytes + dAt + 1] = (byte)(d >> 8);
            if (dminAt >= 0) { file[i * blockBytes + dminAt] = (byte)dmin; file[i * blockBytes + dminAt + 1] = (byte)(dmin >> 8); }
        }
        byte[] interleaved = (byte[])file.Clone();
        float[] x = RandomWeights.Vector(n, seed: q4 ? 71 : 75, scale: 3f);
        var (q, dq, sums) = RoundToQ8K(x);
        var permuted = new sbyte[n];
        var y = new float[4];
        fixed (byte* pk = file) fixed (byte* pi = interleaved) fixed (sbyte* pq = q) fixed (sbyte* pp = permuted)
        fixed (float* pd = dq) fixed (short* ps = sums) fixed (float* py = y)
        {
            StepSharp.Tensors.Blocks.InMemoryLayouts.FromFileLayout(q4 ? GgmlType.Q4_KInterleaved : GgmlType.Q6_KInterleaved, pi, 4, rowBytes);
            Q4_KInterleavedQ8Dot.PermuteActivations(pq, pp, n);
            if (q4) Q4_KInterleavedQ8Dot.Avx2Rows4(pi, pp, pd, ps, n, py);
            else Q6_KInterleavedQ8Dot.Avx2Rows4(pi, pp, pd, ps, n, py);
            for (int r = 0; r < 4; r++)
            {
                float reference = q4 ? Q4_KQ8Dot.Scalar(pk + r * rowBytes, pq, pd, ps, n) : Q6_KQ8Dot.Scalar(pk + r * rowBytes, pq, pd, ps, n);
                Assert.True(float.IsFinite(reference), $"row {r}: the reference itself is {reference}");
                Assert.True(Math.Abs(y[r] - reference) <= 1e-5 * Math.Max(1, Math.Abs(reference)), $"row {r}: {y[r]} vs scalar {reference}");
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_KInterleaved, 1)]   // an expert's down projection: one super-block a row
    [InlineData(GgmlType.Q4_KInterleaved, 3)]
    [InlineData(GgmlType.Q6_KInterleaved, 1)]
    [InlineData(GgmlType.Q6_KInterleaved, 2)]
    [InlineData(GgmlType.Q8_0Grouped, 1)]
    [InlineData(GgmlType.Q8_0Grouped, 2)]
    public void OneCallForManyGroupsGivesEachGroupsResults(GgmlType layout, int blocks)
    {
        // Avx2Groups over three row groups (12 rows) equals three Avx2Rows4 calls bit for bit: the same operations per
        // group, only the loop around them moves into the kernel.
        if (!KernelIsa.IsSupported(Isa.Avx2)) return;
        const int rows = 12;
        int n = 256 * blocks;
        byte[] w = RandomWeights.Rows(layout, rows, n, seed: 90 + blocks);
        float[] x = RandomWeights.Vector(n, seed: 91 + blocks, scale: 2f);
        var (q, d, sums) = RoundToQ8K(x);
        var permuted = new sbyte[n];
        var q80 = new sbyte[n];
        var d80 = new float[n / 32];
        float[] separate = new float[rows], together = new float[rows];
        long rowBytes = GgmlTypeInfo.RowBytes(layout, n);
        fixed (byte* pw = w) fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d) fixed (short* ps = sums) fixed (sbyte* pp = permuted)
        fixed (sbyte* pq8 = q80) fixed (float* pd8 = d80) fixed (float* py = separate) fixed (float* pt = together)
        {
            Q4_KInterleavedQ8Dot.PermuteActivations(pq, pp, n);
            Q8Activations.Quantize(px, n, pq8, pd8);
            for (int g = 0; g < rows / 4; g++)
            {
                byte* group = pw + g * 4 * rowBytes;
                if (layout == GgmlType.Q4_KInterleaved) Q4_KInterleavedQ8Dot.Avx2Rows4(group, pp, pd, ps, n, py + 4 * g);
                else if (layout == GgmlType.Q6_KInterleaved) Q6_KInterleavedQ8Dot.Avx2Rows4(group, pp, pd, ps, n, py + 4 * g);
                else Q8_0GroupedQ8Dot.Avx2Rows4(group, pq8, pd8, n, py + 4 * g);
            }
            if (layout == GgmlType.Q4_KInterleaved) Q4_KInterleavedQ8Dot.Avx2Groups(pw, 4 * rowBytes, rows / 4, pp, pd, ps, n, pt);
            else if (layout == GgmlType.Q6_KInterleaved) Q6_KInterleavedQ8Dot.Avx2Groups(pw, 4 * rowBytes, rows / 4, pp, pd, ps, n, pt);
            else Q8_0GroupedQ8Dot.Avx2Groups(pw, 4 * rowBytes, rows / 4, pq8, pd8, n, pt);
        }
        Assert.Equal(separate, together);
        Assert.DoesNotContain(0f, together);   // every row written
    }

    public static TheoryData<GgmlType, Isa, int> Rows4Cases()
    {
        var data = new TheoryData<GgmlType, Isa, int>();
        foreach (Isa isa in KernelIsa.Supported())
        {
            if (isa == Isa.Scalar) continue;
            foreach (var type in new[] { GgmlType.Q4_K, GgmlType.Q6_K })
            {
                if (type == GgmlType.Q4_K && isa == Isa.Avx512) continue;   // Q4_K has one four-row form, 256-bit
                foreach (int blocks in new[] { 1, 4, 5 })
                    data.Add(type, isa, blocks);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Rows4Cases))]
    public void KQuantRows4MatchTheScalarReference(GgmlType type, Isa isa, int blocks)
    {
        // Rows 1..4 of 6, so the rows are at a non-zero offset and the kernel's prefetch of the next four rows
        // runs past the last one (prefetches never fault; this checks the results only).
        int n = 256 * blocks;
        byte[] rows = RandomWeights.Rows(type, 6, n, seed: 40 + blocks);
        float[] x = RandomWeights.Vector(n, seed: 41 + blocks, scale: 2f);
        var (q, dq, sums) = RoundToQ8K(x);
        var y = new float[6];
        int rowBytes = rows.Length / 6;
        fixed (byte* pr = rows) fixed (sbyte* pq = q) fixed (float* pd = dq) fixed (short* ps = sums) fixed (float* py = y)
        {
            if (type == GgmlType.Q4_K) Q4_KQ8Dot.Avx2Rows4(pr + rowBytes, rowBytes, pq, pd, ps, n, py + 1);
            else if (isa == Isa.Avx512) Q6_KQ8Dot.Avx512Rows4(pr + rowBytes, rowBytes, pq, pd, ps, n, py + 1);
            else Q6_KQ8Dot.Avx2Rows4(pr + rowBytes, rowBytes, pq, pd, ps, n, py + 1);
            for (int r = 1; r <= 4; r++)
            {
                byte* row = pr + r * rowBytes;
                float reference = type == GgmlType.Q4_K ? Q4_KQ8Dot.Scalar(row, pq, pd, ps, n) : Q6_KQ8Dot.Scalar(row, pq, pd, ps, n);
                Assert.True(Math.Abs(y[r] - reference) <= 1e-5 * Math.Max(1, Math.Abs(reference)) + 1e-4, $"{type} row {r}: {y[r]} vs scalar {reference}");
            }
            Assert.Equal(0f, y[0]);
            Assert.Equal(0f, y[5]);
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
