using StepSharp.Inference.Sampling;

namespace StepSharp.Inference;

/// <summary>One generated token as it is streamed: its id, the text it completed (may be empty while a UTF-8
/// character or a possible stop string is incomplete) and, when requested, log-probabilities.</summary>
public readonly record struct GeneratedToken(int TokenId, string Text, float Logprob, TokenLogprob[]? TopLogprobs);
