namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q5_K: 256 values, 176 bytes (spec gguf-format.md §3.2).
/// Layout: 0 d fp16; 2 dmin fp16; 4 scales[12] (<see cref="KScales6"/>); 16 qh[32]; 48 qs[128] (nibbles as Q4_K).
/// n5 = n + 16*((qh[i%32] >> (i/32)) &amp; 1); value i = (d*sc[j])*n5 - (dmin*m[j]).
/// </summary>
internal static class Q5_KBlock
{
    public const int Values = 256;
    public const int Bytes = 176;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Fp16.Read(block, 0);
        float dmin = Fp16.Read(block, 2);
        ReadOnlySpan<byte> scales = block.Slice(4, KScales6.Bytes);
        ReadOnlySpan<byte> qh = block.Slice(16, 32);
        ReadOnlySpan<byte> qs = block.Slice(48, 128);
        for (int j = 0; j < 8; j++)
        {
            var (sc, m) = KScales6.Unpack(scales, j);
            float d1 = d * sc;
            float m1 = dmin * m;
            int c = j / 2;
            bool high = (j & 1) != 0;
            for (int l = 0; l < 32; l++)
            {
                int b = qs[32 * c + l];
                int n = (high ? b >> 4 : b & 15) + 16 * ((qh[l] >> j) & 1);
                y[32 * j + l] = d1 * n - m1;
            }
        }
    }

    /// <summary>
    /// quantize_row_q5_K_ref (spec §5 "Q5_K"): as Q4_K with 5-bit levels (nmax 31, rmin -0.5, nstep 15);
    /// bit 4 of each level goes to qh[l], bit 2c for the first half of 64-value group c, 2c+1 for the second.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<byte> levels = stackalloc byte[Values];
        Span<float> weights = stackalloc float[32];
        Span<float> scales = stackalloc float[8];
        Span<float> mins = stackalloc float[8];
        KSubBlockFit.FitAsymmetric(x, levels, weights, scales, mins, nmax: 31, rmin: -0.5f, rdelta: 0.1f, nstep: 15);
        KSubBlockFit.StoreScalesAndRequantize(x, block, levels, scales, mins, nmax: 31);
        Span<byte> qh = block.Slice(16, 32);
        Span<byte> qs = block.Slice(48, 128);
        qh.Clear();
        for (int c = 0; c < 4; c++)
        {
            for (int l = 0; l < 32; l++)
            {
                int first = levels[64 * c + l], second = levels[64 * c + l + 32];
                qh[l] |= (byte)((first >> 4) << (2 * c) | (second >> 4) << (2 * c + 1));
                qs[32 * c + l] = (byte)((first & 15) | (second & 15) << 4);
            }
        }
    }
}
