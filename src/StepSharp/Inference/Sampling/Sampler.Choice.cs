using System.Numerics.Tensors;

namespace StepSharp.Inference.Sampling;

/// <summary>The truncation and draw steps of the chain (top-k → top-p → min-p → temperature → draw).</summary>
public sealed partial class Sampler
{
    /// <summary>
    /// Without top-k, top-p ranks only the tokens within this logit distance of the best (each further one holds
    /// less than e^-20 of the best token's mass) unless those do not reach the nucleus mass.
    /// </summary>
    private const float NucleusWindow = 20f;
    private const int NucleusBuckets = 512;

    private int Choose(ReadOnlySpan<float> logits)
    {
        float max = CheckedMax(logits);
        if (_options.Temperature <= 0f) return TensorPrimitives.IndexOfMax(logits);

        bool topK = _options.TopK > 0 && _options.TopK < VocabSize;
        bool topP = _options.TopP < 1f;
        bool minP = _options.MinP > 0f;
        float minPThreshold = minP ? max + MathF.Log(_options.MinP) : float.MinValue;
        // Min-p alone only filters: no ranking needed.
        if (!topK && !topP) return DrawFromAll(logits, max, minPThreshold);

        int n;
        if (topK)
        {
            // Min-p may pre-filter only when no top-p follows: top-p's mass must include what min-p drops later.
            n = TopCandidates.Select(logits, _options.TopK, topP ? float.MinValue : minPThreshold, _candidates);
            if (topP)
            {
                int nucleus = NucleusSize(logits, n, max, _options.TopP * SumExpOfCandidates(logits, n, max));
                if (nucleus > 0) n = nucleus;
            }
        }
        else
        {
            double target = _options.TopP * SumExpInDouble(logits, max);
            n = TopCandidates.Select(logits, VocabSize, NucleusThreshold(logits, max, target), _candidates);
            int nucleus = NucleusSize(logits, n, max, target);
            if (nucleus < 0)
            {
                // Rounding at a bucket edge left the candidates just short of the mass: rank everything.
                n = TopCandidates.Select(logits, VocabSize, float.MinValue, _candidates);
                nucleus = NucleusSize(logits, n, max, target);
            }
            if (nucleus > 0) n = nucleus;
        }
        if (minP)
            while (n > 1 && logits[_candidates[n - 1]] < minPThreshold) n--;
        return DrawFromCandidates(logits, n, max);
    }

    /// <summary>
    /// A logit threshold above which the tokens surely hold <paramref name="target"/> mass, found without sorting:
    /// one pass files each token's weight (left in the double scratch by <see cref="SumExpInDouble"/>) into buckets of
    /// logit distance below the max, then the buckets are summed best first. Only the tokens above the
    /// threshold are then ranked, usually a few hundred instead of the vocabulary.
    /// </summary>
    private float NucleusThreshold(ReadOnlySpan<float> logits, float max, double target)
    {
        Span<double> histogram = _nucleusHistogram;
        histogram.Clear();
        ReadOnlySpan<double> weights = _scratchDouble;
        const float bucketWidth = NucleusWindow / NucleusBuckets;
        for (int i = 0; i < logits.Length; i++)
        {
            float distance = max - logits[i];
            if (distance < NucleusWindow) histogram[Math.Min((int)(distance * (1f / bucketWidth)), NucleusBuckets - 1)] += weights[i];
        }
        double cumulative = 0;
        for (int b = 0; b < NucleusBuckets; b++)
        {
            cumulative += histogram[b];
            // Half a bucket of slack covers float rounding of the bucket index at the edge.
            if (cumulative >= target) return max - (b + 1.5f) * bucketWidth;
        }
        return float.MinValue; // more than 1 - p of the mass lies beyond the window (a very flat distribution)
    }

    /// <summary>Smallest prefix of the sorted candidates whose mass reaches <paramref name="target"/>, or -1.</summary>
    private int NucleusSize(ReadOnlySpan<float> logits, int n, float max, double target)
    {
        double cumulative = 0;
        for (int i = 0; i < n; i++)
        {
            cumulative += Math.Exp(logits[_candidates[i]] - max);
            if (cumulative >= target) return i + 1;
        }
        return -1;
    }

    private double SumExpOfCandidates(ReadOnlySpan<float> logits, int n, float max)
    {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.Exp(logits[_candidates[i]] - max);
        return sum;
    }

    private int DrawFromCandidates(ReadOnlySpan<float> logits, int n, float max)
    {
        double invT = 1.0 / _options.Temperature;
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            float w = (float)Math.Exp((logits[_candidates[i]] - max) * invT);
            _scratch[i] = w;
            total += w;
        }
        double u = _random.NextDouble() * total;
        double cumulative = 0;
        for (int i = 0; i < n; i++)
        {
            cumulative += _scratch[i];
            if (u < cumulative) return _candidates[i];
        }
        return _candidates[n - 1]; // rounding left u at the very top
    }

    /// <summary>Draws from the whole vocabulary; tokens below <paramref name="threshold"/> (min-p) get no weight.</summary>
    private int DrawFromAll(ReadOnlySpan<float> logits, float max, float threshold)
    {
        double total = SumExp(logits, max, _options.Temperature); // leaves the weights in _scratch
        if (threshold > float.MinValue)
        {
            total = 0;
            for (int i = 0; i < _scratch.Length; i++)
            {
                if (logits[i] < threshold) _scratch[i] = 0f;
                else total += _scratch[i];
            }
        }
        double u = _random.NextDouble() * total;
        double cumulative = 0;
        int lastWeighted = 0;
        for (int i = 0; i < _scratch.Length; i++)
        {
            float w = _scratch[i];
            if (w == 0f) continue;
            cumulative += w;
            lastWeighted = i;
            if (u < cumulative) return i;
        }
        return lastWeighted;
    }

    /// <summary>
    /// Σ exp(logit − max) in double. The nucleus compares this with cumulative double sums of the best
    /// candidates; float exp is off by an ulp (even exp(0) may come out as 1 + 2^-23), which moves the cut of a
    /// long flat tail by hundreds of tokens.
    /// </summary>
    private double SumExpInDouble(ReadOnlySpan<float> logits, float max)
    {
        Span<double> w = _scratchDouble;
        TensorPrimitives.ConvertChecked<float, double>(logits, w);
        TensorPrimitives.Subtract(w, (double)max, w);
        TensorPrimitives.Exp(w, w);
        return TensorPrimitives.Sum<double>(w);
    }

    /// <summary>Σ exp((logit − max) / T), leaving each term in the scratch buffer.</summary>
    private double SumExp(ReadOnlySpan<float> logits, float max, float temperature)
    {
        Span<float> w = _scratch;
        TensorPrimitives.Subtract(logits, max, w);
        if (temperature != 1f) TensorPrimitives.Multiply(w, 1f / temperature, w);
        TensorPrimitives.Exp(w, w);
        return TensorPrimitives.Sum<float>(w);
    }

}
