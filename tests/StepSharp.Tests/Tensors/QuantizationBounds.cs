using StepSharp.Tensors;

namespace StepSharp.Tests.Tensors;

/// <summary>
/// Error bounds of ggml's reference quantizers, derived from spec gguf-format.md §5 (and the block
/// layouts of §3) in the comments of each method: given the original f32 block x and its decoded
/// values y, the check fails when y could not have come from that quantizer applied to x.
/// </summary>
internal static class QuantizationBounds
{
    /// <summary>
    /// Q8_0: d = amax/127, q = round(x/d), |q| ≤ 127, stored fp16(d) = d16, y = q*d16. So
    /// |x - y| ≤ |x - q*d| + |q|*|d - d16| ≤ d/2 + 127*|d - d16|, plus float slack for x*(1/d).
    /// </summary>
    public static void Q8_0(string where, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float amax = 0;
        foreach (float v in x)
            amax = Math.Max(amax, Math.Abs(v));
        double d = amax / 127.0;
        double d16 = (double)(Half)(float)d;
        double bound = d / 2 + 127 * Math.Abs(d - d16) + 1e-6 * amax;
        for (int i = 0; i < 32; i++)
            if (!(Math.Abs(x[i] - y[i]) <= bound)) Assert.Fail($"{where} value {i}: |{x[i]} - {y[i]}| > {bound}");
    }

    /// <summary>
    /// Q4_0 / Q5_0 with 2^(bits-1) = half (8 or 16): max = the signed value of largest |x|, d = max/-half,
    /// q = min(2*half-1, trunc(x/d + half + 0.5)), y = (q-half)*d16. q-half rounds x/d to nearest (error
    /// ≤ |d|/2) except where it would reach +half, which the clamp cuts back to half-1: x/d ∈ [half-0.5, half]
    /// (x of the sign opposite to max) errs by up to |d|. |q-half| ≤ half multiplies the fp16 rounding of d.
    /// </summary>
    public static void SymmetricLegacy(string where, int half, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float max = 0;
        foreach (float v in x)
            if (Math.Abs(v) > Math.Abs(max)) max = v;
        double d = Math.Abs((double)max / half);
        double d16 = Math.Abs((double)(Half)(max / -(float)half));
        for (int i = 0; i < 32; i++)
        {
            bool clampCase = max != 0 && x[i] * (-(double)half / max) >= half - 0.5 - 1e-4;
            double bound = (clampCase ? d : d / 2) + half * Math.Abs(d - d16) + 1e-6 * Math.Abs(max);
            if (!(Math.Abs(x[i] - y[i]) <= bound)) Assert.Fail($"{where} value {i}: |{x[i]} - {y[i]}| > {bound}");
        }
    }

    /// <summary>
    /// Q4_1 / Q5_1 with levels = 15 or 31: d = (max-min)/levels, q = trunc((x-min)/d + 0.5) ∈ 0..levels,
    /// y = q*d16 + fp16(min). |x - y| ≤ d/2 + levels*|d - d16| + |min - fp16(min)|.
    /// </summary>
    public static void AffineLegacy(string where, int levels, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float min = float.MaxValue, max = float.MinValue;
        foreach (float v in x)
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        double d = ((double)max - min) / levels;
        double d16 = (double)(Half)((max - min) / levels);
        double bound = d / 2 + levels * Math.Abs(d - d16) + Math.Abs(min - (double)(Half)min) + 1e-6 * (Math.Abs(min) + Math.Abs(max));
        for (int i = 0; i < 32; i++)
            if (!(Math.Abs(x[i] - y[i]) <= bound)) Assert.Fail($"{where} value {i}: |{x[i]} - {y[i]}| > {bound}");
    }

    /// <summary>
    /// Q6_K: q = clamp(rne(x/D), -32, 31) with D = f32(d)*scale_g exactly as the decoder forms it, so
    /// y = D*q is the point of the 64-level grid {D*k : k ∈ -32..31} nearest to x.
    /// </summary>
    public static void Q6_K(string where, ReadOnlySpan<byte> block, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float d = SpecBlockDecoder.H(block, 208);
        for (int i = 0; i < 256; i++)
        {
            float step = d * (sbyte)block[192 + i / 16];
            if (step == 0)
                continue; // a zero scale codes every value of the group as 0 whatever the fit chose
            NearestGridPoint(where, i, x[i], y[i], step, lowest: -32 * step, highest: 31 * step);
        }
    }

    /// <summary>
    /// Q4_K / Q5_K (levels 15 / 31): n = clamp(rne((x + M)/D), 0, levels) with D = f32(d)*sc_j and
    /// M = f32(dmin)*m_j, the decoder's own products, so y = D*n - M is the grid point nearest to x
    /// within [-M, levels*D - M].
    /// </summary>
    public static void AsymmetricK(string where, int levels, ReadOnlySpan<byte> block, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        float d = SpecBlockDecoder.H(block, 0), dmin = SpecBlockDecoder.H(block, 2);
        for (int i = 0; i < 256; i++)
        {
            var (sc, m) = SpecBlockDecoder.Scale6(block.Slice(4, 12), i / 32);
            float step = d * sc, offset = dmin * m;
            if (step == 0)
                continue;
            NearestGridPoint(where, i, x[i], y[i], step, lowest: -offset, highest: levels * step - offset);
        }
    }

    private static void NearestGridPoint(string where, int i, float x, float y, float step, float lowest, float highest)
    {
        double lo = Math.Min(lowest, highest), hi = Math.Max(lowest, highest);
        double slack = 1e-5 * (Math.Abs(x) + Math.Abs(lowest) + Math.Abs(highest));
        double expectedError = x < lo ? lo - x : x > hi ? x - hi : Math.Abs(step) / 2;
        if (!(Math.Abs(x - y) <= expectedError + slack))
            Assert.Fail($"{where} value {i}: x = {x}, y = {y}, grid step {step} in [{lo}, {hi}]");
    }

    public static double RelativeRmsError(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double err = 0, norm = 0;
        for (int i = 0; i < x.Length; i++)
        {
            err += (double)(x[i] - y[i]) * (x[i] - y[i]);
            norm += (double)x[i] * x[i];
        }
        return Math.Sqrt(err / norm);
    }

    /// <summary>
    /// Loose ceilings on the relative RMS error for Gaussian-like weights: uniform rounding noise is
    /// step/√12, and the step is about amax/levels (amax ≈ 2.5σ for 32 values), doubled for margin.
    /// They catch a scrambled decoder that the per-value bounds would miss.
    /// </summary>
    public static double MaxRelativeRms(GgmlType t) => t switch
    {
        GgmlType.Q8_0 => 0.01,
        GgmlType.Q6_K => 0.03,
        GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q5_K => 0.06,
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q4_K => 0.12,
        _ => throw new ArgumentException(t.ToString()),
    };

    /// <summary>Checks one block of any quantized type with the bound above that fits it.</summary>
    public static void Block(GgmlType type, string where, ReadOnlySpan<byte> block, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        switch (type)
        {
            case GgmlType.Q8_0: Q8_0(where, x, y); break;
            case GgmlType.Q4_0: SymmetricLegacy(where, 8, x, y); break;
            case GgmlType.Q5_0: SymmetricLegacy(where, 16, x, y); break;
            case GgmlType.Q4_1: AffineLegacy(where, 15, x, y); break;
            case GgmlType.Q5_1: AffineLegacy(where, 31, x, y); break;
            case GgmlType.Q4_K: AsymmetricK(where, 15, block, x, y); break;
            case GgmlType.Q5_K: AsymmetricK(where, 31, block, x, y); break;
            case GgmlType.Q6_K: Q6_K(where, block, x, y); break;
            default: throw new ArgumentException($"no bound for {type}");
        }
    }
}
