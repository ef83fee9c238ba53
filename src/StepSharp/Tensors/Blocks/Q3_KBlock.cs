namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q3_K: 256 values, 110 bytes (spec gguf-format.md §3.2).
/// Layout: 0 hmask[32]; 32 qs[64] (low 2 bits); 96 scales[12] (sixteen 6-bit signed scales); 108 d fp16.
/// q = ((qs[32h+l] >> 2g) &amp; 3) - 4 + 4*hb with hb = (hmask[i%32] >> (i/32)) &amp; 1 (range -4..3);
/// value i = (d*sc[i/16])*q.
/// </summary>
internal static class Q3_KBlock
{
    public const int Values = 256;
    public const int Bytes = 110;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        ReadOnlySpan<byte> hmask = block[..32];
        ReadOnlySpan<byte> qs = block.Slice(32, 64);
        ReadOnlySpan<byte> scales = block.Slice(96, 12);
        float d = Fp16.Read(block, 108);
        for (int i = 0; i < Values; i++)
        {
            int h = i / 128, g = i % 128 / 32, l = i % 32;
            int q2 = (qs[32 * h + l] >> (2 * g)) & 3;
            int hb = (hmask[i % 32] >> (i / 32)) & 1;
            int q = q2 - 4 + 4 * hb;
            float dl = d * Scale(scales, i / 16);
            y[i] = dl * q;
        }
    }

    /// <summary>Scale k: 4 low bits from bytes 0-7 (low nibbles for k &lt; 8, high for k ≥ 8), 2 high bits from bytes 8-11, minus 32.</summary>
    private static int Scale(ReadOnlySpan<byte> scales, int k)
    {
        int low4 = k < 8 ? scales[k] & 15 : scales[k - 8] >> 4;
        int high2 = (scales[8 + k % 4] >> (2 * (k / 4))) & 3;
        return (low4 | high2 << 4) - 32;
    }

    /// <summary>
    /// quantize_row_q3_K_ref (spec §5 "Q3_K"): per 16 values a symmetric 3-bit fit (make_q3_quants),
    /// 6-bit signed scales relative to the largest (which maps to -32), then requantization against the
    /// stored scale; bit 2 of each level goes to hmask[i%32] bit i/32.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<byte> levels = stackalloc byte[Values]; // biased: q + 4, 0..7
        Span<float> scales = stackalloc float[16];
        float maxScale = 0, maxAbs = 0;
        for (int j = 0; j < 16; j++)
        {
            scales[j] = KQuantFit.Q3(x.Slice(16 * j, 16), 4, levels.Slice(16 * j, 16));
            if (MathF.Abs(scales[j]) > maxAbs)
            {
                maxAbs = MathF.Abs(scales[j]);
                maxScale = scales[j];
            }
        }

        Span<byte> packed = block.Slice(96, 12);
        packed.Clear();
        if (maxScale != 0)
        {
            float iscale = -32f / maxScale;
            for (int k = 0; k < 16; k++)
            {
                int code = Math.Clamp(KQuantFit.NearestInt(iscale * scales[k]), -32, 31) + 32;
                // Inverse of Scale(): low nibbles in bytes 0-7 (k ≥ 8 in the high half), top 2 bits in bytes 8-11.
                packed[k % 8] |= (byte)((code & 15) << (k < 8 ? 0 : 4));
                packed[8 + k % 4] |= (byte)((code >> 4) << (2 * (k / 4)));
            }
            Fp16.Write(block, 108, 1 / iscale);
        }
        else
        {
            Fp16.Write(block, 108, 0f);
        }

        float d = Fp16.Read(block, 108);
        for (int k = 0; k < 16; k++)
        {
            float dk = d * Scale(packed, k);
            if (dk == 0)
                continue; // keep the fit's levels, as ggml does
            for (int i = 16 * k; i < 16 * k + 16; i++)
                levels[i] = (byte)(Math.Clamp(KQuantFit.NearestInt(x[i] / dk), -4, 3) + 4);
        }

        Span<byte> hmask = block[..32];
        hmask.Clear();
        for (int i = 0; i < Values; i++)
        {
            if (levels[i] > 3)
            {
                hmask[i % 32] |= (byte)(1 << (i / 32));
                levels[i] -= 4;
            }
        }
        Q2_KBlock.Pack2Bit(levels, block.Slice(32, 64));
    }
}
