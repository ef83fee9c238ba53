namespace StepSharp.Inference.Sampling;

/// <summary>A token and its log-probability (natural log), as reported in OpenAI <c>logprobs</c>.</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);
