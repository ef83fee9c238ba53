namespace StepSharp.Inference;

/// <summary>A prompt does not fit the context; the message names both numbers.</summary>
public sealed class ContextLengthExceededException(int promptTokens, int contextLength)
    : ArgumentException($"the prompt has {promptTokens} tokens but the context length is {contextLength} (room is needed for at least one generated token)")
{
    public int PromptTokens { get; } = promptTokens;
    public int ContextLength { get; } = contextLength;
}
