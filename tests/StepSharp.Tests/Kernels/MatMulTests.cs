using StepSharp.Kernels;
using StepSharp.Kernels.Dot;
using StepSharp.Tensors;

namespace StepSharp.Tests.Kernels;

/// <summary>MatMul (decode and tiled prefill paths, every tier) against Dequantize.Row + double-precision dots.</summary>
public class MatMulTests
{
    public static TheoryData<GgmlType, Isa, int> Cases()
    {
        var data = new TheoryData<GgmlType, Isa, int>();
        foreach (GgmlType type in RandomWeights.FusedTypes)
            foreach (Isa isa in KernelIsa.Supported())
                foreach (int tokens in new[] { 1, 2, 3, 4, 5, 11 })
                    data.Add(type, isa, tokens);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public unsafe void MatchesDequantizeThenDot(GgmlType type, Isa isa, int tokens)
    {
        using var floatMath = ActivationQuantization.Set(ActivationMode.Float); // the int8 paths have their own tests

        // 2304 = 9 K-quant super-blocks: two full 1024-value panels and a 256-value one. F32-like rows get an
        // odd length so the micro-kernel's scalar tail runs. 13 rows: three full 4-row tiles and one row left.
        int inputs = GgmlTypeInfo.BlockSize(type) == 1 ? 1031 : 2304;
        // The kernel layouts keep rows in groups of four: their ranges start on one.
        const int rows = 13;
        bool grouped = GgmlTypeInfo.IsInMemoryLayout(type);
        int totalRows = grouped ? 20 : 17, rowStart = grouped ? 4 : 3;
        byte[] data = RandomWeights.Rows(type, totalRows, inputs, seed: tokens + 100 * (int)type);
        float[] x = RandomWeights.Vector(tokens * inputs, seed: tokens, scale: 2f);
        var y = new float[tokens * rows];
        using var pool = new KernelThreadPool(2);
        fixed (byte* p = data)
        {
            var weights = new TensorView("w", type, [inputs, totalRows], p, data.Length);
            MatMul.Compute(pool, weights, rowStart, rows, x, tokens, y, isa);
            for (int t = 0; t < tokens; t++)
            {
                for (int r = 0; r < rows; r++)
                {
                    var (expected, magnitude) = RandomWeights.Reference(weights, rowStart + r, x.AsSpan(t * inputs, inputs));
                    float actual = y[t * rows + r];
                    Assert.True(Math.Abs(actual - expected) <= 1e-5 * magnitude,
                        $"{type} {isa} token {t} row {r}: {actual} vs reference {expected} (Σ|w·x| = {magnitude})");
                }
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q4_KInterleaved)]
    public unsafe void PrefillWorkItemsAndTokenBlocksCoverEveryOutput(GgmlType type)
    {
        using var floatMath = ActivationQuantization.Set(ActivationMode.Float);
        // 70 rows: a full 64-row work item and one of 6 (a 4-row tile and 2 single rows); 133 tokens: two full
        // 64-token blocks and a block of 5 (one 4-token tile and a single token); 2304 values: three K panels.
        // (The kernel layouts keep rows in groups of four: 72 rows, a work item of 8.)
        const int inputs = 2304, tokens = 133;
        int rows = RandomWeights.RowsFor(type, 70);
        byte[] data = RandomWeights.Rows(type, rows, inputs, seed: 77);
        float[] x = RandomWeights.Vector(tokens * inputs, seed: 78, scale: 2f);
        var y = new float[tokens * rows];
        y.AsSpan().Fill(float.NaN);   // every output must be written
        using var pool = new KernelThreadPool(2);
        fixed (byte* p = data)
        {
            var weights = new TensorView("w", type, [inputs, rows], p, data.Length);
            MatMul.Compute(pool, weights, 0, rows, x, tokens, y);
            foreach (int t in new[] { 0, 3, 63, 64, 127, 128, 131, 132 })
                for (int r = 0; r < rows; r++)
                {
                    var (expected, magnitude) = RandomWeights.Reference(weights, r, x.AsSpan(t * inputs, inputs));
                    float actual = y[t * rows + r];
                    Assert.True(Math.Abs(actual - expected) <= 1e-5 * magnitude, $"{type} token {t} row {r}: {actual} vs reference {expected}");
                }
            Assert.DoesNotContain(y, float.IsNaN);
        }
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, 1, false)]
    [InlineData(GgmlType.Q4_K, 1, false)]
    [InlineData(GgmlType.F32, 8, false)]
    [InlineData(GgmlType.Q6_K, 8, false)]
    [InlineData(GgmlType.Q8_0, 3, true)]
    [InlineData(GgmlType.Q4_K, 1, true)]
    [InlineData(GgmlType.Q6_K, 1, true)]
    [InlineData(GgmlType.Q4_KInterleaved, 1, true)]
    [InlineData(GgmlType.Q4_KInterleaved, 2, true)]
    [InlineData(GgmlType.Q6_KInterleaved, 1, true)]
    [InlineData(GgmlType.Q8_0Grouped, 3, true)]
    public unsafe void DoesNotAllocatePerCall(GgmlType type, int tokens, bool int8Activations)
    {
        using var activations = ActivationQuantization.Enable(int8Activations);
        const int inputs = 512, rows = 64;
        byte[] data = RandomWeights.Rows(type, rows, inputs, seed: 1);
        float[] x = RandomWeights.Vector(tokens * inputs, seed: 2);
        var y = new float[tokens * rows];
        using var pool = new KernelThreadPool(2);
        fixed (byte* p = data)
        {
            var weights = new TensorView("w", type, [inputs, rows], p, data.Length);
            for (int i = 0; i < 3; i++) MatMul.Compute(pool, weights, 0, rows, x, tokens, y); // per-thread scratch and jit
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 20; i++) MatMul.Compute(pool, weights, 0, rows, x, tokens, y);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, 1)]
    [InlineData(GgmlType.Q8_0, 3)]
    [InlineData(GgmlType.Q4_K, 1)]
    [InlineData(GgmlType.Q4_K, 2)]
    [InlineData(GgmlType.Q6_K, 1)]
    [InlineData(GgmlType.Q6_K, 2)]
    [InlineData(GgmlType.Q4_KInterleaved, 1)]
    [InlineData(GgmlType.Q4_KInterleaved, 3)]
    [InlineData(GgmlType.Q6_KInterleaved, 1)]
    [InlineData(GgmlType.Q6_KInterleaved, 2)]
    [InlineData(GgmlType.Q8_0Grouped, 1)]
    [InlineData(GgmlType.Q8_0Grouped, 3)]
    public unsafe void Int8ActivationsMatchTheScalarKernelsRowByRow(GgmlType type, int tokens)
    {
        // 37 rows over 2 threads: chunks of four-row groups plus single rows at the end, every row checked against
        // the scalar reference kernel on the same rounded activations (Q8_0 blocks for Q8_0, Q8_K for the K-quants).
        // A kernel layout's matrix has 40 rows (groups of four), of which the first 37 are computed.
        const int inputs = 768, rows = 37;
        int totalRows = RandomWeights.RowsFor(type, rows);
        byte[] data = RandomWeights.Rows(type, totalRows, inputs, seed: 9);
        // The interleaved layouts are checked against the file type's kernel on the rows they were made from.
        GgmlType fileType = StepSharp.Tensors.Blocks.InMemoryLayouts.FileType(GgmlTypeInfo.IsInMemoryLayout(type) ? type : GgmlType.Q4_KInterleaved);
        byte[] fileRows = RandomWeights.Rows(fileType, totalRows, inputs, seed: 9);
        float[] x = RandomWeights.Vector(tokens * inputs, seed: 10, scale: 2f);
        var y = new float[tokens * rows];
        using var pool = new KernelThreadPool(2);
        using var activations = ActivationQuantization.Enable();
        var q = new sbyte[inputs];
        var d = new float[inputs / 32];
        var sums = new short[inputs / 16];
        fixed (byte* p = data) fixed (byte* pk = fileRows) fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d) fixed (short* ps = sums)
        {
            var weights = new TensorView("w", type, [inputs, totalRows], p, data.Length);
            MatMul.Compute(pool, weights, 0, rows, x, tokens, y);
            if (GgmlTypeInfo.IsInMemoryLayout(type)) Assert.NotEqual(fileRows, data);
            for (int t = 0; t < tokens; t++)
            {
                if (type is GgmlType.Q8_0 or GgmlType.Q8_0Grouped) Q8Activations.Quantize(px + t * inputs, inputs, pq, pd);
                else Q8KActivations.Quantize(px + t * inputs, inputs, pq, pd, ps);
                for (int r = 0; r < rows; r++)
                {
                    byte* row = p + (long)r * weights.RowByteLength;
                    float expected = type switch
                    {
                        GgmlType.Q8_0 => Q8Activations.Scalar(row, pq, pd, inputs),
                        GgmlType.Q4_K => Q4_KQ8Dot.Scalar(row, pq, pd, ps, inputs),
                        GgmlType.Q4_KInterleaved => Q4_KQ8Dot.Scalar(pk + (long)r * weights.RowByteLength, pq, pd, ps, inputs),
                        GgmlType.Q6_KInterleaved => Q6_KQ8Dot.Scalar(pk + (long)r * weights.RowByteLength, pq, pd, ps, inputs),
                        GgmlType.Q8_0Grouped => Q8Activations.Scalar(pk + (long)r * weights.RowByteLength, pq, pd, inputs),
                        _ => Q6_KQ8Dot.Scalar(row, pq, pd, ps, inputs),
                    };
                    float actual = y[t * rows + r];
                    Assert.True(Math.Abs(actual - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)) + 1e-4, $"token {t} row {r}: {actual} vs {expected}");
                }
            }
        }
    }

    [Fact]
    public unsafe void AKernelLayoutsRangeMustStartOnARowGroup()
    {
        byte[] data = RandomWeights.Rows(GgmlType.Q4_KInterleaved, 8, 256, seed: 3);
        using var pool = new KernelThreadPool(1);
        fixed (byte* p = data)
        {
            var weights = new TensorView("blk.0.ffn_up_exps.weight", GgmlType.Q4_KInterleaved, [256, 8], p, data.Length);
            var e = Assert.Throws<ArgumentException>(() => MatMul.Compute(pool, weights, 2, 4, new float[256], 1, new float[4]));
            Assert.Contains("blk.0.ffn_up_exps.weight", e.Message);
            Assert.Contains("groups of 4", e.Message);
        }
    }

    [Fact]
    public unsafe void TypesWithoutAFusedKernelStillWork()
    {
        // Q4_1 has no fused kernel: MatMul falls back to dequantize-then-dot.
        const int inputs = 64, rows = 3;
        float[] w = RandomWeights.Vector(inputs * rows, seed: 4);
        var data = new byte[GgmlTypeInfo.RowBytes(GgmlType.Q4_1, inputs) * rows];
        int rowBytes = data.Length / rows;
        for (int r = 0; r < rows; r++) Quantize.Row(GgmlType.Q4_1, w.AsSpan(r * inputs, inputs), data.AsSpan(r * rowBytes, rowBytes));
        float[] x = RandomWeights.Vector(inputs, seed: 5);
        var y = new float[rows];
        using var pool = new KernelThreadPool(1);
        fixed (byte* p = data)
        {
            var weights = new TensorView("w", GgmlType.Q4_1, [inputs, rows], p, data.Length);
            MatMul.Compute(pool, weights, 0, rows, x, 1, y);
            for (int r = 0; r < rows; r++)
            {
                var (expected, magnitude) = RandomWeights.Reference(GgmlType.Q4_1, weights.Row(r), x);
                Assert.True(Math.Abs(y[r] - expected) <= 1e-5 * magnitude, $"row {r}: {y[r]} vs {expected}");
            }
        }
    }

    [Theory]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.F32)]
    [InlineData(GgmlType.Q4_KInterleaved)]   // a row that is not one span
    public unsafe void RowDotMatchesTheReference(GgmlType type)
    {
        const int inputs = 512;
        int rows = RandomWeights.RowsFor(type, 3);
        byte[] data = RandomWeights.Rows(type, rows, inputs, seed: 9);
        float[] x = RandomWeights.Vector(inputs, seed: 10);
        fixed (byte* p = data)
        {
            var weights = new TensorView("w", type, [inputs, rows], p, data.Length);
            for (int r = 0; r < rows; r++)
            {
                var (expected, magnitude) = RandomWeights.Reference(weights, r, x);
                float actual = MatMul.RowDot(weights, r, x);
                Assert.True(Math.Abs(actual - expected) <= 1e-5 * magnitude, $"{type} row {r}: {actual} vs {expected}");
            }
        }
    }
    [Theory]
    [InlineData(GgmlType.Q4_K, GgmlType.Q6_K, 1)]   // shared Q8_K activations, one fork/join
    [InlineData(GgmlType.Q4_K, GgmlType.Q6_K, 2)]
    [InlineData(GgmlType.Q8_0, GgmlType.Q8_0, 1)]   // shared Q8_0 activations
    [InlineData(GgmlType.Q8_0, GgmlType.Q4_K, 1)]   // different activation blocks: one matrix after another
    [InlineData(GgmlType.Q4_K, GgmlType.Q6_K, 16)]  // prefill tiles: one matrix after another
    [InlineData(GgmlType.Q4_KInterleaved, GgmlType.Q6_K, 1)]  // shared Q8_K activations, permuted for the first
    [InlineData(GgmlType.Q6_K, GgmlType.Q4_KInterleaved, 2)]
    [InlineData(GgmlType.Q4_KInterleaved, GgmlType.Q4_KInterleaved, 16)]
    [InlineData(GgmlType.Q4_KInterleaved, GgmlType.Q6_KInterleaved, 1)]
    [InlineData(GgmlType.Q6_KInterleaved, GgmlType.Q6_K, 2)]
    [InlineData(GgmlType.Q8_0Grouped, GgmlType.Q8_0, 1)]   // shared Q8_0 activations
    [InlineData(GgmlType.Q8_0Grouped, GgmlType.Q4_KInterleaved, 1)]
    public unsafe void SameInputMatricesGiveTheResultsOfSeparateCalls(GgmlType first, GgmlType other, int tokens)
    {
        // Four matrices of the attention's shapes in miniature (query, key, value, a 6-row head gate): 6 and 18 rows
        // leave single rows after the four-row groups (a kernel layout's keep groups of four: 8 and 20); bit-identical
        // results to one Compute call each.
        const int inputs = 512;
        GgmlType[] types = [first, other, first, other];
        int[] rows = [40, RandomWeights.RowsFor(other, 18), 12, RandomWeights.RowsFor(other, 6)];
        byte[][] data = new byte[4][];
        for (int i = 0; i < 4; i++) data[i] = RandomWeights.Rows(types[i], rows[i], inputs, seed: 30 + i);
        float[] x = RandomWeights.Vector(tokens * inputs, seed: 40, scale: 2f);
        using var pool = new KernelThreadPool(2);
        fixed (byte* p0 = data[0]) fixed (byte* p1 = data[1]) fixed (byte* p2 = data[2]) fixed (byte* p3 = data[3])
        {
            TensorView[] w =
            [
                new("q", types[0], [inputs, rows[0]], p0, data[0].Length), new("k", types[1], [inputs, rows[1]], p1, data[1].Length),
                new("v", types[2], [inputs, rows[2]], p2, data[2].Length), new("g", types[3], [inputs, rows[3]], p3, data[3].Length),
            ];
            float[][] expected = new float[4][], actual = new float[4][];
            for (int i = 0; i < 4; i++)
            {
                expected[i] = new float[tokens * rows[i]];
                actual[i] = new float[tokens * rows[i]];
                MatMul.Compute(pool, w[i], 0, rows[i], x, tokens, expected[i]);
            }
            MatMul.ComputeSameInput(pool, x, tokens, w[0], actual[0], w[1], actual[1], w[2], actual[2], w[3], actual[3]);
            for (int i = 0; i < 4; i++) Assert.Equal(expected[i], actual[i]);

            // The two- and three-matrix forms, and a plain call afterwards is unaffected by the shared job's state.
            Array.Clear(actual[0]); Array.Clear(actual[1]); Array.Clear(actual[2]);
            MatMul.ComputeSameInput(pool, x, tokens, w[0], actual[0], w[1], actual[1], w[2], actual[2]);
            for (int i = 0; i < 3; i++) Assert.Equal(expected[i], actual[i]);
            Array.Clear(actual[0]); Array.Clear(actual[3]);
            MatMul.ComputeSameInput(pool, x, tokens, w[0], actual[0], w[3], actual[3]);
            Assert.Equal(expected[0], actual[0]);
            Assert.Equal(expected[3], actual[3]);
            Array.Clear(actual[1]);
            MatMul.Compute(pool, w[1], 0, rows[1], x, tokens, actual[1]);
            Assert.Equal(expected[1], actual[1]);
        }
    }

    [Fact]
    public unsafe void SameInputMatricesRejectAShortOutputNamingTheTensor()
    {
        const int inputs = 256;
        byte[] a = RandomWeights.Rows(GgmlType.Q4_K, 8, inputs, seed: 1), b = RandomWeights.Rows(GgmlType.Q4_K, 8, inputs, seed: 2);
        float[] x = RandomWeights.Vector(inputs, seed: 3);
        using var pool = new KernelThreadPool(2);
        fixed (byte* pa = a) fixed (byte* pb = b)
        {
            var wa = new TensorView("blk.0.attn_q.weight", GgmlType.Q4_K, [inputs, 8], pa, a.Length);
            var wb = new TensorView("blk.0.attn_k.weight", GgmlType.Q4_K, [inputs, 8], pb, b.Length);
            var expected = new float[8];
            MatMul.Compute(pool, wa, 0, 8, x, 1, expected);
            var e = Assert.Throws<ArgumentException>(() => MatMul.ComputeSameInput(pool, x, 1, wa, new float[8], wb, new float[5]));
            Assert.Contains("blk.0.attn_k.weight", e.Message);
            // The failed call leaves nothing behind: a plain call still computes its own matrix.
            var y = new float[8];
            MatMul.Compute(pool, wa, 0, 8, x, 1, y);
            Assert.Equal(expected, y);
        }
    }
}
