namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q8_0: 32 values, 34 bytes (spec gguf-format.md §3.1).
/// Layout: 0 d fp16; 2 qs int8[32]. Value i = qs[i]*d.
/// </summary>
internal static class Q8_0Block
{
    public const int Values = 32;
    public const int Bytes = 34;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Fp16.Read(block, 0);
        ReadOnlySpan<byte> qs = block.Slice(2, Values);
        for (int i = 0; i < Values; i++)
            y[i] = (sbyte)qs[i] * d;
    }

    /// <summary>
    /// ggml's quantize_row_q8_0_ref (spec §5 "Q8_0"): d = amax/127, q = roundf(x/d) with ties away
    /// from zero, computed from the f32 d although only fp16(d) is stored — this is what
    /// llama-quantize writes, so the bytes match it.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        float amax = 0;
        for (int i = 0; i < Values; i++)
            amax = MathF.Max(amax, MathF.Abs(x[i]));
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        Fp16.Write(block, 0, d);
        for (int i = 0; i < Values; i++)
            block[2 + i] = (byte)(sbyte)MathF.Round(x[i] * id, MidpointRounding.AwayFromZero);
    }
}
