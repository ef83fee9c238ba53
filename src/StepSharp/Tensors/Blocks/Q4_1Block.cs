namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q4_1: 32 values, 20 bytes (spec gguf-format.md §3.1).
/// Layout: 0 d fp16; 2 m fp16; 4 qs[16] (nibbles as Q4_0). Value i = n(i)*d + m.
/// </summary>
internal static class Q4_1Block
{
    public const int Values = 32;
    public const int Bytes = 20;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Fp16.Read(block, 0);
        float m = Fp16.Read(block, 2);
        ReadOnlySpan<byte> qs = block.Slice(4, 16);
        for (int k = 0; k < 16; k++)
        {
            y[k] = (qs[k] & 15) * d + m;
            y[k + 16] = (qs[k] >> 4) * d + m;
        }
    }

    /// <summary>quantize_row_q4_1_ref (spec §5): d = (max-min)/15, m = min, q = min(15, trunc((x-min)/d + 0.5)).</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        var (min, max) = MinMax(x);
        float d = (max - min) / 15f;
        float id = d != 0 ? 1f / d : 0f;
        Fp16.Write(block, 0, d);
        Fp16.Write(block, 2, min);
        for (int k = 0; k < 16; k++)
        {
            int lo = Math.Min(15, (int)((x[k] - min) * id + 0.5f));
            int hi = Math.Min(15, (int)((x[k + 16] - min) * id + 0.5f));
            block[4 + k] = (byte)(lo | hi << 4);
        }
    }

    internal static (float Min, float Max) MinMax(ReadOnlySpan<float> x)
    {
        float min = float.MaxValue, max = float.MinValue;
        foreach (float v in x)
        {
            min = MathF.Min(min, v);
            max = MathF.Max(max, v);
        }
        return (min, max);
    }
}
