namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q4_0: 32 values, 18 bytes (spec gguf-format.md §3.1).
/// Layout: 0 d fp16; 2 qs[16]. Byte k holds value k (low nibble) and value k+16 (high nibble).
/// Value i = (n(i) - 8)*d.
/// </summary>
internal static class Q4_0Block
{
    public const int Values = 32;
    public const int Bytes = 18;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Fp16.Read(block, 0);
        ReadOnlySpan<byte> qs = block.Slice(2, 16);
        for (int k = 0; k < 16; k++)
        {
            y[k] = ((qs[k] & 15) - 8) * d;
            y[k + 16] = ((qs[k] >> 4) - 8) * d;
        }
    }

    /// <summary>
    /// quantize_row_q4_0_ref (spec §5 "Legacy types"): the value with the largest magnitude maps to -8,
    /// d = max/-8, q = min(15, trunc(x/d + 8.5)).
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        float max = SignedMaxMagnitude(x);
        float d = max / -8f;
        float id = d != 0 ? 1f / d : 0f;
        Fp16.Write(block, 0, d);
        for (int k = 0; k < 16; k++)
        {
            int lo = Math.Min(15, (int)(x[k] * id + 8.5f));
            int hi = Math.Min(15, (int)(x[k + 16] * id + 8.5f));
            block[2 + k] = (byte)(lo | hi << 4);
        }
    }

    /// <summary>The signed value with the largest |x| (the first one on ties), as ggml's "max".</summary>
    internal static float SignedMaxMagnitude(ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        foreach (float v in x)
        {
            if (amax < MathF.Abs(v))
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }
        return max;
    }
}
