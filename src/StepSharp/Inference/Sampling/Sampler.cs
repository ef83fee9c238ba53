using System.Numerics.Tensors;
using System.Security.Cryptography;

namespace StepSharp.Inference.Sampling;

/// <summary>
/// Picks the next token from a logit vector. The chain follows llama.cpp's default order:
/// <list type="number">
/// <item>logit bias (added; -inf bans a token)</item>
/// <item>penalties over the last <see cref="SamplingOptions.PenaltyWindow"/> history tokens: repetition
///   (positive logit / r, negative logit × r), then − count × frequency − presence</item>
/// <item>top-k → top-p → min-p, all judged on the probabilities at temperature 1 (as llama.cpp does, because
///   its temperature step comes after them); top-p normalises over what top-k left (the whole vocabulary when off)</item>
/// <item>temperature, then a draw from the survivors (greedy argmax when temperature ≤ 0)</item>
/// </list>
/// The logits are modified in place by steps 1–2. The sampler owns every buffer it needs: a call allocates nothing.
/// The random stream is our own xoshiro256**, so a seed reproduces the same draws on every platform.
/// One sampler serves one sequence at a time (it is not thread-safe).
/// </summary>
public sealed partial class Sampler
{
    private readonly SamplingOptions _options;
    private readonly int[] _biasIds;
    private readonly float[] _biasValues;
    private readonly int[] _penaltyCounts;   // zero between calls
    private readonly int[] _candidates;      // candidate ids, best first
    private readonly float[] _scratch;       // per-token weights
    private readonly double[] _scratchDouble; // per-token weights for the nucleus mass
    private readonly double[] _nucleusHistogram = new double[NucleusBuckets];
    private readonly int[] _topLogprobIds = new int[SamplingOptions.MaxTopLogprobs];
    private Xoshiro256StarStar _random;

    public Sampler(SamplingOptions options, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        options.Validate();
        _options = options;
        VocabSize = vocabSize;
        _biasIds = new int[options.LogitBias.Count];
        _biasValues = new float[options.LogitBias.Count];
        int b = 0;
        foreach (var (id, bias) in options.LogitBias)
        {
            if ((uint)id >= (uint)vocabSize)
                throw new ArgumentOutOfRangeException(nameof(options), id, $"logit bias names token {id}, outside the vocabulary of {vocabSize}");
            _biasIds[b] = id;
            _biasValues[b++] = bias;
        }
        _penaltyCounts = new int[vocabSize];
        _candidates = new int[vocabSize];
        _scratch = new float[vocabSize];
        _scratchDouble = new double[vocabSize];
        Seed = options.Seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        _random = new Xoshiro256StarStar(Seed);
    }

    public SamplingOptions Options => _options;
    public int VocabSize { get; }

    /// <summary>The seed in use (the option's, or the random one picked when it was null).</summary>
    public ulong Seed { get; }

    /// <summary>Restarts the random stream from <see cref="Seed"/>: the same inputs then give the same tokens again.</summary>
    public void Reset() => _random = new Xoshiro256StarStar(Seed);

    /// <summary>Samples a token. <paramref name="history"/> is the sequence so far (prompt and generated), used by the penalties.</summary>
    public int Sample(Span<float> logits, ReadOnlySpan<int> history)
    {
        Prepare(logits, history);
        return Choose(logits);
    }

    /// <summary>
    /// Samples a token and reports log-probabilities from the distribution after bias and penalties at
    /// temperature 1, before top-k/top-p/min-p (what llama.cpp's server and the OpenAI API report as
    /// <c>logprobs</c>: the model's view, not the truncated sampling distribution).
    /// </summary>
    /// <param name="topLogprobs">Receives up to <see cref="SamplingOptions.TopLogprobs"/> best tokens, best first.</param>
    /// <param name="logprob">Log-probability of the chosen token.</param>
    /// <param name="topCount">How many entries of <paramref name="topLogprobs"/> were written.</param>
    public int SampleWithLogprobs(Span<float> logits, ReadOnlySpan<int> history, Span<TokenLogprob> topLogprobs,
        out float logprob, out int topCount)
    {
        Prepare(logits, history);
        float max = CheckedMax(logits);
        float logZ = max + (float)Math.Log(SumExp(logits, max, 1f));
        int token = Choose(logits);
        logprob = logits[token] - logZ;
        int wanted = Math.Min(_options.TopLogprobs, topLogprobs.Length);
        topCount = TopCandidates.Select(logits, wanted, float.MinValue, _topLogprobIds);
        for (int i = 0; i < topCount; i++)
            topLogprobs[i] = new TokenLogprob(_topLogprobIds[i], logits[_topLogprobIds[i]] - logZ);
        return token;
    }

    /// <summary>
    /// Draws again from logits already prepared by <see cref="Sample"/> (bias and penalties applied) after the caller
    /// removed refused tokens (set to −∞): constrained decoding re-draws without applying the penalties twice.
    /// </summary>
    public int Redraw(ReadOnlySpan<float> logits) => Choose(logits);

    private void Prepare(Span<float> logits, ReadOnlySpan<int> history)
    {
        if (logits.Length != VocabSize)
            throw new ArgumentException($"{logits.Length} logits for a vocabulary of {VocabSize}", nameof(logits));
        for (int i = 0; i < _biasIds.Length; i++) logits[_biasIds[i]] += _biasValues[i];
        ApplyPenalties(logits, history);
    }

    private void ApplyPenalties(Span<float> logits, ReadOnlySpan<int> history)
    {
        float repetition = _options.RepetitionPenalty, presence = _options.PresencePenalty, frequency = _options.FrequencyPenalty;
        int window = _options.PenaltyWindow;
        if (window == 0 || (repetition == 1f && presence == 0f && frequency == 0f)) return;
        ReadOnlySpan<int> recent = window < 0 || window >= history.Length ? history : history[^window..];
        foreach (int token in recent)
            if ((uint)token >= (uint)VocabSize)
                throw new ArgumentOutOfRangeException(nameof(history), token, $"history holds token {token}, outside the vocabulary of {VocabSize}");
        foreach (int token in recent) _penaltyCounts[token]++;
        foreach (int token in recent)
        {
            int count = _penaltyCounts[token];
            if (count == 0) continue; // already penalised (a repeat)
            _penaltyCounts[token] = 0;
            float logit = logits[token];
            logit = logit > 0f ? logit / repetition : logit * repetition;
            logits[token] = logit - count * frequency - presence;
        }
    }

    private static float CheckedMax(ReadOnlySpan<float> logits)
    {
        float max = TensorPrimitives.Max(logits);
        if (!float.IsFinite(max) && !float.IsNegativeInfinity(max))
            throw new ArgumentException($"the logits contain {max} (a broken forward pass?)", nameof(logits));
        if (float.IsNegativeInfinity(max)) throw new InvalidOperationException("every token is banned (all logits are -infinity)");
        return max;
    }
}
