namespace StepSharp.Tensors.Blocks;

/// <summary>
/// The steps Q4_K and Q5_K share (spec gguf-format.md §5 "Q4_K" steps 1-3): eight 32-value sub-blocks
/// fitted as scale*L - min, the scales and mins quantized to 6 bits against their maxima, and the
/// values requantized against what is actually stored.
/// </summary>
internal static class KSubBlockFit
{
    /// <summary>Step 1: make_qkx2_quants per sub-block with weights sqrt(mean x²) + |x|.</summary>
    public static void FitAsymmetric(ReadOnlySpan<float> x, Span<byte> levels, Span<float> weights, Span<float> scales, Span<float> mins,
        int nmax, float rmin, float rdelta, int nstep)
    {
        for (int j = 0; j < 8; j++)
        {
            ReadOnlySpan<float> xs = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (int l = 0; l < 32; l++)
                sumX2 += xs[l] * xs[l];
            float averageMagnitude = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++)
                weights[l] = averageMagnitude + MathF.Abs(xs[l]);
            scales[j] = KQuantFit.Qkx2(xs, nmax, weights, levels.Slice(32 * j, 32), out mins[j], rmin, rdelta, nstep);
        }
    }

    /// <summary>
    /// Steps 2-3: 6-bit scale/min codes relative to the largest (d = max/63, dmin = maxmin/63, both fp16),
    /// packed into block[4..16]; then L = clamp(rne((x + M)/D), 0, nmax) with the stored D and M.
    /// Writes block[0..16]; the caller packs <paramref name="levels"/>.
    /// </summary>
    public static void StoreScalesAndRequantize(ReadOnlySpan<float> x, Span<byte> block, Span<byte> levels,
        ReadOnlySpan<float> scales, ReadOnlySpan<float> mins, int nmax)
    {
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++)
        {
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        Span<byte> scaleCodes = stackalloc byte[8];
        Span<byte> minCodes = stackalloc byte[8];
        for (int j = 0; j < 8; j++)
        {
            // ggml stores nearest_int into a uint8_t before the MIN, so the cast wraps first.
            scaleCodes[j] = Math.Min((byte)63, unchecked((byte)KQuantFit.NearestInt(invScale * scales[j])));
            minCodes[j] = Math.Min((byte)63, unchecked((byte)KQuantFit.NearestInt(invMin * mins[j])));
        }
        KScales6.Pack(scaleCodes, minCodes, block.Slice(4, KScales6.Bytes));
        Fp16.Write(block, 0, maxScale / 63f);
        Fp16.Write(block, 2, maxMin / 63f);

        float d = Fp16.Read(block, 0), dmin = Fp16.Read(block, 2);
        for (int j = 0; j < 8; j++)
        {
            float dj = d * scaleCodes[j];
            if (dj == 0)
                continue; // keep the fit's levels, as ggml does
            float mj = dmin * minCodes[j];
            for (int i = 32 * j; i < 32 * j + 32; i++)
                levels[i] = (byte)Math.Clamp(KQuantFit.NearestInt((x[i] + mj) / dj), 0, nmax);
        }
    }
}
