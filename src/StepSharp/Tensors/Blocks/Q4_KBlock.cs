namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q4_K: 256 values, 144 bytes (spec gguf-format.md §3.2, worked example §3.3).
/// Layout: 0 d fp16; 2 dmin fp16; 4 scales[12] (<see cref="KScales6"/>); 16 qs[128].
/// With c = i/64, r = i%64, j = i/32: n = r &lt; 32 ? lo(qs[32c+r]) : hi(qs[32c+r-32]) — each 32-byte group
/// holds 64 values, low nibbles first (unlike Q4_0). Value i = (d*sc[j])*n - (dmin*m[j]).
/// </summary>
internal static class Q4_KBlock
{
    public const int Values = 256;
    public const int Bytes = 144;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Fp16.Read(block, 0);
        float dmin = Fp16.Read(block, 2);
        ReadOnlySpan<byte> scales = block.Slice(4, KScales6.Bytes);
        ReadOnlySpan<byte> qs = block.Slice(16, 128);
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
                int n = high ? b >> 4 : b & 15;
                y[32 * j + l] = d1 * n - m1;
            }
        }
    }

    /// <summary>
    /// quantize_row_q4_K_ref (spec §5 "Q4_K"): per 32-value sub-block an asymmetric fit
    /// (make_qkx2_quants, weights sqrt(mean x²) + |x|), 6-bit scales and mins relative to their maxima,
    /// then every value requantized against the stored (fp16 × 6-bit) scale and min.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        Span<byte> levels = stackalloc byte[Values];
        Span<float> weights = stackalloc float[32];
        Span<float> scales = stackalloc float[8];
        Span<float> mins = stackalloc float[8];
        KSubBlockFit.FitAsymmetric(x, levels, weights, scales, mins, nmax: 15, rmin: -1f, rdelta: 0.1f, nstep: 20);
        KSubBlockFit.StoreScalesAndRequantize(x, block, levels, scales, mins, nmax: 15);
        Span<byte> qs = block.Slice(16, 128);
        for (int c = 0; c < 4; c++)
        {
            for (int l = 0; l < 32; l++)
                qs[32 * c + l] = (byte)(levels[64 * c + l] | levels[64 * c + l + 32] << 4);
        }
    }
}
