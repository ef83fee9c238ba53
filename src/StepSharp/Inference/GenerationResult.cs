namespace StepSharp.Inference;

/// <summary>Why a generation ended.</summary>
public enum FinishReason { Stop, Length, Cancelled }

/// <summary>What a generation produced and how fast.</summary>
public sealed record GenerationResult(
    int PromptTokens, int GeneratedTokens, IReadOnlyList<int> Tokens, string Text, FinishReason FinishReason,
    TimeSpan PrefillTime, TimeSpan DecodeTime)
{
    /// <summary>From the start of the request to the first generated token.</summary>
    public TimeSpan TimeToFirstToken { get; init; }
    /// <summary>The stop string that ended the generation, or null.</summary>
    public string? StopString { get; init; }
    /// <summary>Prompt tokens whose KV cache was kept from the previous request (prefix reuse) rather than recomputed.</summary>
    public int CachedPromptTokens { get; init; }
    /// <summary>Prompt tokens per second of prefill, counting only the tokens actually computed.</summary>
    public double PrefillTokensPerSecond => PrefillTime.TotalSeconds > 0 ? (PromptTokens - CachedPromptTokens) / PrefillTime.TotalSeconds : 0;
    /// <summary>Decode speed over the tokens after the first (the first comes out of the prefill).</summary>
    public double DecodeTokensPerSecond => DecodeTime.TotalSeconds > 0 && GeneratedTokens > 1 ? (GeneratedTokens - 1) / DecodeTime.TotalSeconds : 0;
}
