namespace StepSharp.Kernels;

/// <summary>How the rotated dimensions are paired.</summary>
public enum RopeStyle
{
    /// <summary>Adjacent pairs (2i, 2i+1): Llama as converted by llama.cpp (LLAMA_ROPE_TYPE_NORM).</summary>
    Interleaved,
    /// <summary>Rotate-half pairs (i, i+R/2): NeoX / Hugging Face style, used by Step 3.5 (spec §2.3).</summary>
    Neox,
}

/// <summary>
/// Rotary position embedding for one layer type: the inverse frequencies of the first
/// <see cref="RotaryDims"/> dimensions of each head; the rest pass through unchanged (partial rotary, spec §2.3).
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly double[] _invFreq;

    /// <param name="rotaryDims">R: dimensions rotated per head (even).</param>
    /// <param name="theta">RoPE base θ.</param>
    /// <param name="freqFactors">Optional per-pair divisors (llama.cpp's <c>rope_freqs</c>): inv_i /= factor_i.</param>
    public RotaryEmbedding(int rotaryDims, double theta, RopeStyle style, ReadOnlySpan<float> freqFactors = default)
    {
        if (rotaryDims <= 0 || rotaryDims % 2 != 0) throw new ArgumentException($"rotary dims must be a positive even number, got {rotaryDims}");
        if (!freqFactors.IsEmpty && freqFactors.Length < rotaryDims / 2)
            throw new ArgumentException($"rope_freqs has {freqFactors.Length} factors but {rotaryDims / 2} rotary pairs need one each");
        RotaryDims = rotaryDims;
        Theta = theta;
        Style = style;
        _invFreq = new double[rotaryDims / 2];
        for (int i = 0; i < _invFreq.Length; i++)
        {
            double inv = Math.Pow(theta, -2.0 * i / rotaryDims);
            if (!freqFactors.IsEmpty) inv /= freqFactors[i];
            _invFreq[i] = inv;
        }
    }

    public int RotaryDims { get; }
    public double Theta { get; }
    public RopeStyle Style { get; }

    /// <summary>Rotates each of the <paramref name="heads"/> head vectors (length <paramref name="headDim"/>) at <paramref name="position"/>.</summary>
    public void Apply(Span<float> vectors, int heads, int headDim, int position)
    {
        int half = RotaryDims / 2;
        for (int i = 0; i < half; i++)
        {
            // Angles in double: at 256K positions a float angle loses ~0.01 rad.
            double angle = position * _invFreq[i];
            float cos = (float)Math.Cos(angle), sin = (float)Math.Sin(angle);
            int a = Style == RopeStyle.Neox ? i : 2 * i;
            int b = Style == RopeStyle.Neox ? i + half : 2 * i + 1;
            for (int h = 0; h < heads; h++)
            {
                int o = h * headDim;
                float x0 = vectors[o + a], x1 = vectors[o + b];
                vectors[o + a] = x0 * cos - x1 * sin;
                vectors[o + b] = x1 * cos + x0 * sin;
            }
        }
    }

    /// <summary>
    /// llama3-style frequency factors (spec §2.3) as llama.cpp stores them in <c>rope_freqs</c>:
    /// the divisor of each inverse frequency.
    /// </summary>
    public static float[] Llama3Factors(int rotaryDims, double theta, double factor, double lowFreqFactor, double highFreqFactor, double originalContext)
    {
        var factors = new float[rotaryDims / 2];
        double lowWavelen = originalContext / lowFreqFactor, highWavelen = originalContext / highFreqFactor;
        for (int i = 0; i < factors.Length; i++)
        {
            double inv = Math.Pow(theta, -2.0 * i / rotaryDims);
            double wavelen = 2 * Math.PI / inv;
            if (wavelen < highWavelen) factors[i] = 1f;
            else if (wavelen > lowWavelen) factors[i] = (float)factor;
            else
            {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                factors[i] = (float)(1.0 / ((1 - smooth) / factor + smooth));
            }
        }
        return factors;
    }
}
