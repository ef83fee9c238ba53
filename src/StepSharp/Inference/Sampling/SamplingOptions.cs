namespace StepSharp.Inference.Sampling;

/// <summary>
/// Settings of a <see cref="Sampler"/>. Defaults are neutral (plain sampling at temperature 1, nothing
/// filtered, no penalties) like the OpenAI API; front ends set their own (StepFun evaluates Step 3.5 Flash at
/// temperature 1.0, top-p 1.0, spec §6.1).
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Softmax temperature; 0 or less means greedy (argmax after bias and penalties).</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the k most likely tokens; 0 = off.</summary>
    public int TopK { get; init; }

    /// <summary>Nucleus: keep the smallest set of most likely tokens whose mass reaches this; 1 = off.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Drop tokens whose probability is below this fraction of the most likely one's; 0 = off.</summary>
    public float MinP { get; init; }

    /// <summary>CTRL-style penalty on tokens in the window: positive logits are divided by it, negative ones multiplied; 1 = off.</summary>
    public float RepetitionPenalty { get; init; } = 1f;

    /// <summary>OpenAI presence penalty: subtracted once from the logit of every token in the window.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>OpenAI frequency penalty: subtracted once per occurrence in the window.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>How many of the latest history tokens the penalties look at; 0 = penalties off, -1 = the whole history.</summary>
    public int PenaltyWindow { get; init; } = 64;

    /// <summary>Added to a token's logit before anything else; <see cref="float.NegativeInfinity"/> bans the token.</summary>
    public IReadOnlyDictionary<int, float> LogitBias { get; init; } = new Dictionary<int, float>();

    /// <summary>PRNG seed; null picks a random one per <see cref="Sampler"/>.</summary>
    public ulong? Seed { get; init; }

    /// <summary>How many alternatives <see cref="Sampler.SampleWithLogprobs"/> reports (0..20, the OpenAI limit).</summary>
    public int TopLogprobs { get; init; }

    public const int MaxTopLogprobs = 20;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (float.IsNaN(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature is NaN");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "top-k must be 0 (off) or positive");
        if (!(TopP > 0f && TopP <= 1f)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top-p must be in (0, 1]");
        if (!(MinP >= 0f && MinP <= 1f)) throw new ArgumentOutOfRangeException(nameof(MinP), MinP, "min-p must be in [0, 1]");
        if (!(RepetitionPenalty > 0f) || float.IsInfinity(RepetitionPenalty))
            throw new ArgumentOutOfRangeException(nameof(RepetitionPenalty), RepetitionPenalty, "repetition penalty must be a positive finite number (1 = off)");
        if (!float.IsFinite(PresencePenalty)) throw new ArgumentOutOfRangeException(nameof(PresencePenalty), PresencePenalty, "must be finite");
        if (!float.IsFinite(FrequencyPenalty)) throw new ArgumentOutOfRangeException(nameof(FrequencyPenalty), FrequencyPenalty, "must be finite");
        if (PenaltyWindow < -1) throw new ArgumentOutOfRangeException(nameof(PenaltyWindow), PenaltyWindow, "penalty window must be -1 (all), 0 (off) or positive");
        if (TopLogprobs is < 0 or > MaxTopLogprobs)
            throw new ArgumentOutOfRangeException(nameof(TopLogprobs), TopLogprobs, $"top logprobs must be in 0..{MaxTopLogprobs}");
        ArgumentNullException.ThrowIfNull(LogitBias, nameof(LogitBias));
        foreach (var (id, bias) in LogitBias)
            if (float.IsNaN(bias) || float.IsPositiveInfinity(bias))
                throw new ArgumentOutOfRangeException(nameof(LogitBias), bias, $"logit bias of token {id} must be finite or -infinity");
    }
}
