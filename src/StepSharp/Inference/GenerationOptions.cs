using StepSharp.Inference.Sampling;

namespace StepSharp.Inference;

/// <summary>Settings of one generation.</summary>
public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 128;
    public SamplingOptions Sampling { get; init; } = new();
    /// <summary>Stop when one of these strings appears; it is not emitted.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    /// <summary>Keep generating past end-of-generation tokens (benchmarks).</summary>
    public bool IgnoreEndOfGeneration { get; init; }
    /// <summary>Report the chosen token's log-probability (and <see cref="SamplingOptions.TopLogprobs"/> alternatives).</summary>
    public bool Logprobs { get; init; }
    /// <summary>Constrained decoding: a fresh constraint per generation (JSON object, forced tool call), or null.</summary>
    public Func<Constraints.IOutputConstraint>? Constraint { get; init; }
    /// <summary>Extra end-of-generation ids besides the tokenizer's (Step 3.5 Flash: 1, 2, 128007).</summary>
    public IReadOnlyList<int> ExtraEndOfGenerationIds { get; init; } = [];
}
