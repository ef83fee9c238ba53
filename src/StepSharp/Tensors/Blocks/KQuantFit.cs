namespace StepSharp.Tensors.Blocks;

/// <summary>
/// The scale searches behind ggml's K-quant reference quantizers (spec gguf-format.md §5), in f32 in
/// ggml's operation order so that results track llama-quantize (without an importance matrix).
/// </summary>
internal static class KQuantFit
{
    /// <summary>ggml's nearest_int: round half to even (the 1.5·2^23 trick in C).</summary>
    public static int NearestInt(float v) => (int)MathF.Round(v);

    /// <summary>
    /// make_qkx2_quants: fits x ≈ scale*L + min with L in 0..nmax and min ≤ 0, trying the plain range
    /// fit and then nstep+1 stretched grids, each refined by weighted least squares; keeps the one with
    /// the lowest weighted squared error. Returns the scale; <paramref name="negatedMin"/> = -min ≥ 0.
    /// </summary>
    public static float Qkx2(ReadOnlySpan<float> x, int nmax, ReadOnlySpan<float> weights, Span<byte> levels,
        out float negatedMin, float rmin, float rdelta, int nstep)
    {
        int n = x.Length;
        Span<byte> candidate = stackalloc byte[n];
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            levels[..n].Clear();
            negatedMin = -min;
            return 0f;
        }

        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
            levels[i] = (byte)l;
            float diff = scale * l + min - x[i];
            bestError += weights[i] * (diff * diff);
        }

        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
                candidate[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det <= 0)
                continue;
            float thisScale = (sumW * sumXL - sumX * sumL) / det;
            float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
            if (thisMin > 0)
            {
                // The model requires min ≤ 0; refit the scale alone with min pinned at 0.
                thisMin = 0;
                thisScale = sumXL / sumL2;
            }
            float error = 0;
            for (int i = 0; i < n; i++)
            {
                float diff = thisScale * candidate[i] + thisMin - x[i];
                error += weights[i] * (diff * diff);
            }
            if (error < bestError)
            {
                candidate.CopyTo(levels);
                bestError = error;
                scale = thisScale;
                min = thisMin;
            }
        }
        negatedMin = -min;
        return scale;
    }

    /// <summary>Below this, a group counts as all zero (ggml's GROUP_MAX_EPS).</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// make_qx_quants with rmse_type 1: symmetric fit x ≈ scale*l, l in -nmax..nmax-1, weights x².
    /// The extreme value goes to -nmax (the side with the extra code); 18 nearby grids are tried and the
    /// least-squares scale of the best kept. Levels are stored biased (l + nmax). The scale may be negative.
    /// </summary>
    public static float Qx(ReadOnlySpan<float> x, int nmax, Span<byte> levels)
    {
        int n = x.Length;
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }
        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0f;
        }

        float iscale = -nmax / max;
        float sumLX = 0, sumL2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            levels[i] = (byte)(l + nmax);
            float w = x[i] * x[i];
            sumLX += w * x[i] * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0f;
        float best = scale * sumLX;
        for (int t = -9; t <= 9; t++)
        {
            if (t == 0)
                continue;
            iscale = -(nmax + 0.1f * t) / max;
            sumLX = sumL2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
                float w = x[i] * x[i];
                sumLX += w * x[i] * l;
                sumL2 += w * l * l;
            }
            // sumLX²/sumL2 > best ⇔ a lower weighted squared error for the least-squares scale.
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2)
            {
                for (int i = 0; i < n; i++)
                    levels[i] = (byte)(Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1) + nmax);
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }
}
