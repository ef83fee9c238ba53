namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q2_K: 256 values, 84 bytes (spec gguf-format.md §3.2).
/// Layout: 0 scales[16] (low nibble = 4-bit scale, high nibble = 4-bit min, one per 16 values);
/// 16 qs[64] (2-bit values); 80 d fp16; 82 dmin fp16.
/// With h = i/128, g = (i%128)/32, l = i%32: q = (qs[32h+l] >> 2g) &amp; 3, s = scales[i/16],
/// value i = (d*lo(s))*q - dmin*hi(s).
/// </summary>
internal static class Q2_KBlock
{
    public const int Values = 256;
    public const int Bytes = 84;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        ReadOnlySpan<byte> scales = block[..16];
        ReadOnlySpan<byte> qs = block.Slice(16, 64);
        float d = Fp16.Read(block, 80);
        float dmin = Fp16.Read(block, 82);
        for (int i = 0; i < Values; i++)
        {
            int h = i / 128, g = i % 128 / 32, l = i % 32;
            int q = (qs[32 * h + l] >> (2 * g)) & 3;
            int s = scales[i / 16];
            float dl = d * (s & 15);
            float ml = dmin * (s >> 4);
            y[i] = dl * q - ml;
        }
    }

    /// <summary>
    /// quantize_row_q2_K_ref (spec §5 "Q2_K"): per 16 values an asymmetric 2-bit fit (make_qkx2_quants,
    /// weights |x|, absolute error), 4-bit scale and min codes relative to their maxima, then
    /// requantization against the stored values.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<byte> levels = stackalloc byte[Values];
        Span<float> weights = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 16; j++)
        {
            ReadOnlySpan<float> xs = x.Slice(16 * j, 16);
            for (int l = 0; l < 16; l++)
                weights[l] = MathF.Abs(xs[l]);
            scales[j] = KQuantFit.Qkx2(xs, 3, weights, levels.Slice(16 * j, 16), out mins[j], -0.5f, 0.1f, 15, absoluteError: true);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }

        Span<byte> codes = block[..16];
        codes.Clear();
        if (maxScale > 0)
        {
            float iscale = 15f / maxScale;
            for (int j = 0; j < 16; j++)
                codes[j] = (byte)KQuantFit.NearestInt(iscale * scales[j]);
        }
        Fp16.Write(block, 80, maxScale > 0 ? maxScale / 15f : 0f);
        if (maxMin > 0)
        {
            float iscale = 15f / maxMin;
            for (int j = 0; j < 16; j++)
                codes[j] |= (byte)(KQuantFit.NearestInt(iscale * mins[j]) << 4);
        }
        Fp16.Write(block, 82, maxMin > 0 ? maxMin / 15f : 0f);

        float d = Fp16.Read(block, 80), dmin = Fp16.Read(block, 82);
        for (int j = 0; j < 16; j++)
        {
            float dj = d * (codes[j] & 15);
            if (dj == 0)
                continue; // keep the fit's levels, as ggml does
            float mj = dmin * (codes[j] >> 4);
            for (int i = 16 * j; i < 16 * j + 16; i++)
                levels[i] = (byte)Math.Clamp(KQuantFit.NearestInt((x[i] + mj) / dj), 0, 3);
        }
        Pack2Bit(levels, block.Slice(16, 64));
    }

    /// <summary>qs[32h + l] holds values 128h + l + 32g in bits 2g..2g+1 (g = 0..3), as the decoder reads them.</summary>
    internal static void Pack2Bit(ReadOnlySpan<byte> levels, Span<byte> qs)
    {
        for (int h = 0; h < 2; h++)
        {
            for (int l = 0; l < 32; l++)
            {
                int b = 128 * h + l;
                qs[32 * h + l] = (byte)(levels[b] | levels[b + 32] << 2 | levels[b + 64] << 4 | levels[b + 96] << 6);
            }
        }
    }
}
