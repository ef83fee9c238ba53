using System.Runtime.Intrinsics;

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
        if (heads * headDim > vectors.Length) throw new ArgumentException($"{heads} heads of {headDim} need {heads * headDim} values, the span holds {vectors.Length}");
        int half = RotaryDims / 2;
        AngleTable angles = AnglesAt(position);
        ReadOnlySpan<float> cosines = angles.Cos.AsSpan(0, half), sines = angles.Sin.AsSpan(0, half);
        for (int h = 0; h < heads; h++)
        {
            Span<float> head = vectors.Slice(h * headDim, headDim);
            if (Style == RopeStyle.Neox) RotateHalves(head[..half], head.Slice(half, half), cosines, sines);
            else
                for (int i = 0; i < half; i++)
                {
                    float x0 = head[2 * i], x1 = head[2 * i + 1];
                    head[2 * i] = x0 * cosines[i] - x1 * sines[i];
                    head[2 * i + 1] = x1 * cosines[i] + x0 * sines[i];
                }
        }
    }

    /// <summary>(a, b) ← (a·cos − b·sin, b·cos + a·sin), element by element: the same operations as the scalar form, so the same floats.</summary>
    private static void RotateHalves(Span<float> a, Span<float> b, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int i = 0;
        for (; i <= a.Length - Vector256<float>.Count; i += Vector256<float>.Count)
        {
            Vector256<float> x0 = Vector256.Create<float>(a[i..]), x1 = Vector256.Create<float>(b[i..]);
            Vector256<float> c = Vector256.Create(cos[i..]), s = Vector256.Create(sin[i..]);
            (x0 * c - x1 * s).CopyTo(a[i..]);
            (x1 * c + x0 * s).CopyTo(b[i..]);
        }
        for (; i < a.Length; i++)
        {
            float x0 = a[i], x1 = b[i];
            a[i] = x0 * cos[i] - x1 * sin[i];
            b[i] = x1 * cos[i] + x0 * sin[i];
        }
    }

    /// <summary>
    /// cos and sin of every pair's angle at <paramref name="position"/>, from a small per-thread cache: a decode step
    /// rotates the queries and keys of every layer at the same position, and the layers share a few frequency sets
    /// (sliding and full), so Math.Cos/Sin run once per set and token instead of twice per layer (0.6 % of a mini decode
    /// step). Entries are keyed by the inverse frequencies' values, not by instance, so layers built alike share one.
    /// </summary>
    private AngleTable AnglesAt(int position)
    {
        AngleTable[] cache = t_angles ??= [new(), new(), new(), new()];
        foreach (AngleTable entry in cache)
            if (entry.Position == position && (ReferenceEquals(entry.InvFreq, _invFreq) || entry.InvFreq.AsSpan().SequenceEqual(_invFreq)))
                return entry;
        AngleTable table = cache[t_nextAngles++ & (cache.Length - 1)];
        int half = _invFreq.Length;
        if (table.Cos.Length < half) (table.Cos, table.Sin) = (new float[half], new float[half]);
        for (int i = 0; i < half; i++)
        {
            // Angles in double: at 256K positions a float angle loses ~0.01 rad.
            double angle = position * _invFreq[i];
            table.Cos[i] = (float)Math.Cos(angle);
            table.Sin[i] = (float)Math.Sin(angle);
        }
        table.InvFreq = _invFreq;
        table.Position = position;
        return table;
    }

    private sealed class AngleTable
    {
        public double[] InvFreq = [];
        public int Position = -1;
        public float[] Cos = [], Sin = [];
    }

    [ThreadStatic] private static AngleTable[]? t_angles;
    [ThreadStatic] private static int t_nextAngles;

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
