using StepSharp.Tensors;

namespace StepSharp.Tests.Kernels;

/// <summary>
/// Random weight rows for kernel tests. Quantized blocks are random bytes (every nibble, bit and scale
/// pattern occurs) with their fp16 scale fields overwritten by moderate values, so no block decodes to
/// Inf/NaN; float rows are random values encoded by the reference quantizer.
/// </summary>
internal static class RandomWeights
{
    public static readonly GgmlType[] FusedTypes =
        [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q4_KInterleaved, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q6_KInterleaved, GgmlType.Q8_0Grouped];

    public static unsafe byte[] Rows(GgmlType type, int rows, int values, int seed)
    {
        if (GgmlTypeInfo.IsInMemoryLayout(type))
        {
            // The in-memory layouts are only ever made from their file types' rows, in groups of four.
            byte[] made = Rows(StepSharp.Tensors.Blocks.InMemoryLayouts.FileType(type), rows, values, seed);
            fixed (byte* p = made) StepSharp.Tensors.Blocks.InMemoryLayouts.FromFileLayout(type, p, rows, GgmlTypeInfo.RowBytes(type, values));
            return made;
        }
        var rng = new Random(seed);
        int rowBytes = checked((int)GgmlTypeInfo.RowBytes(type, values));
        var data = new byte[rows * rowBytes];
        if (type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16)
        {
            float[] v = Vector(rows * values, seed);
            for (int r = 0; r < rows; r++)
                Quantize.Row(type, v.AsSpan(r * values, values), data.AsSpan(r * rowBytes, rowBytes));
            return data;
        }
        rng.NextBytes(data);
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        for (int at = 0; at < data.Length; at += blockBytes)
        {
            switch (type)
            {
                case GgmlType.Q4_K or GgmlType.Q5_K:
                    WriteHalf(data, at, rng, 0.02f);      // d
                    WriteHalf(data, at + 2, rng, 0.02f);  // dmin
                    break;
                case GgmlType.Q6_K:
                    WriteHalf(data, at + 208, rng, 0.002f);
                    break;
                default:
                    WriteHalf(data, at, rng, 0.1f);
                    break;
            }
        }
        return data;
    }

    public static float[] Vector(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return v;
    }

    /// <summary>dot(Dequantize.Row(row), x) in double, and Σ|w·x| as the scale of its rounding error.</summary>
    public static (double Dot, double Magnitude) Reference(GgmlType type, ReadOnlySpan<byte> row, ReadOnlySpan<float> x)
    {
        var w = new float[x.Length];
        Dequantize.Row(type, row, w);
        return Reference(w, x);
    }

    /// <summary>As <see cref="Reference(GgmlType, ReadOnlySpan{byte}, ReadOnlySpan{float})"/> for row <paramref name="row"/> of a tensor (whose rows a kernel layout does not keep contiguous).</summary>
    public static (double Dot, double Magnitude) Reference(in TensorView weights, long row, ReadOnlySpan<float> x)
    {
        var w = new float[x.Length];
        weights.DequantizeRow(row, w);
        return Reference(w, x);
    }

    /// <summary>Rows a test matrix of <paramref name="type"/> needs for at least <paramref name="rows"/>: the kernel layouts keep rows in groups of four.</summary>
    public static int RowsFor(GgmlType type, int rows) => GgmlTypeInfo.IsInMemoryLayout(type) ? (rows + 3) & ~3 : rows;

    private static (double Dot, double Magnitude) Reference(float[] w, ReadOnlySpan<float> x)
    {
        double dot = 0, magnitude = 0;
        for (int i = 0; i < w.Length; i++)
        {
            dot += (double)w[i] * x[i];
            magnitude += Math.Abs((double)w[i] * x[i]);
        }
        return (dot, magnitude);
    }

    private static void WriteHalf(byte[] data, int at, Random rng, float scale)
    {
        ushort bits = BitConverter.HalfToUInt16Bits((Half)((rng.NextDouble() * 2 - 1) * scale));
        data[at] = (byte)bits;
        data[at + 1] = (byte)(bits >> 8);
    }
}
