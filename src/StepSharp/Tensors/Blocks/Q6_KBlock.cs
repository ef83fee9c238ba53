namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q6_K: 256 values, 210 bytes (spec gguf-format.md §3.2, worked example §3.4).
/// Layout: 0 ql[128] (low 4 bits); 128 qh[64] (high 2 bits); 192 scales int8[16]; 208 d fp16.
/// With h = i/128, g = (i%128)/32, l = i%32: low4 = g &lt; 2 ? lo(ql[64h+32(g&amp;1)+l]) : hi(same byte),
/// high2 = (qh[32h+l] >> 2g) &amp; 3, q = (low4 | high2&lt;&lt;4) - 32; value i = (d*scales[i/16])*q.
/// </summary>
internal static class Q6_KBlock
{
    public const int Values = 256;
    public const int Bytes = 210;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        ReadOnlySpan<byte> ql = block[..128];
        ReadOnlySpan<byte> qh = block.Slice(128, 64);
        ReadOnlySpan<byte> scales = block.Slice(192, 16);
        float d = Fp16.Read(block, 208);
        for (int i = 0; i < Values; i++)
        {
            int h = i / 128, g = i % 128 / 32, l = i % 32;
            int lb = ql[64 * h + 32 * (g & 1) + l];
            int low4 = g < 2 ? lb & 15 : lb >> 4;
            int high2 = (qh[32 * h + l] >> (2 * g)) & 3;
            int q = (low4 | high2 << 4) - 32;
            float ds = d * (sbyte)scales[i / 16];
            y[i] = ds * q;
        }
    }

    /// <summary>
    /// quantize_row_q6_K_ref (spec §5 "Q6_K"): a symmetric fit per 16 values (make_qx_quants, nmax 32),
    /// int8 scales relative to the largest (which maps to -128), then requantization against the
    /// stored fp16 × int8 scale.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<byte> levels = stackalloc byte[Values]; // biased: q + 32, 0..63
        Span<float> scales = stackalloc float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int g = 0; g < 16; g++)
        {
            scales[g] = KQuantFit.Qx(x.Slice(16 * g, 16), 32, levels.Slice(16 * g, 16));
            if (MathF.Abs(scales[g]) > maxAbsScale)
            {
                maxAbsScale = MathF.Abs(scales[g]);
                maxScale = scales[g];
            }
        }
        block[..Bytes].Clear();
        if (maxAbsScale < KQuantFit.GroupMaxEps)
            return; // an all-zero block: every field zero

        float iscale = -128f / maxScale;
        Fp16.Write(block, 208, 1 / iscale);
        for (int g = 0; g < 16; g++)
            block[192 + g] = (byte)(sbyte)Math.Min(127, KQuantFit.NearestInt(iscale * scales[g]));

        float d = Fp16.Read(block, 208);
        for (int g = 0; g < 16; g++)
        {
            float dg = d * (sbyte)block[192 + g];
            if (dg == 0)
                continue; // keep the fit's levels, as ggml does
            for (int i = 16 * g; i < 16 * g + 16; i++)
                levels[i] = (byte)(Math.Clamp(KQuantFit.NearestInt(x[i] / dg), -32, 31) + 32);
        }

        Span<byte> ql = block[..128];
        Span<byte> qh = block.Slice(128, 64);
        for (int h = 0; h < 2; h++)
        {
            for (int l = 0; l < 32; l++)
            {
                int q1 = levels[128 * h + l], q2 = levels[128 * h + l + 32];
                int q3 = levels[128 * h + l + 64], q4 = levels[128 * h + l + 96];
                ql[64 * h + l] = (byte)((q1 & 15) | (q3 & 15) << 4);
                ql[64 * h + l + 32] = (byte)((q2 & 15) | (q4 & 15) << 4);
                qh[32 * h + l] = (byte)(q1 >> 4 | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
        }
    }
}
