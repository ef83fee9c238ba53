using StepSharp.Tokenization;

namespace StepSharp.Inference;

/// <summary>A request for one completion: prompt tokens and generation settings.</summary>
public sealed record CompletionRequest
{
    public required IReadOnlyList<int> PromptTokens { get; init; }
    public GenerationOptions Options { get; init; } = new();
}

/// <summary>What a completion stream yields: tokens as they are generated, then one <see cref="CompletionFinished"/>.</summary>
public abstract record CompletionEvent;

public sealed record CompletionToken(GeneratedToken Token) : CompletionEvent;

public sealed record CompletionFinished(GenerationResult Result) : CompletionEvent;

/// <summary>
/// The runtime as the layers above see it (chat client, server, CLI chat): tokens in, a stream of generated
/// tokens out. Implementations decide how requests share the model (one at a time, or continuous batching).
/// </summary>
public interface ICompletionEngine : IDisposable
{
    LoadedModel Model { get; }
    ITokenizer Tokenizer => Model.Tokenizer;
    /// <summary>Largest prompt + generation a request may use.</summary>
    int ContextLength { get; }

    /// <summary>Generates; cancelling the token stops generation promptly and ends the stream with reason Cancelled or an OperationCanceledException.</summary>
    IAsyncEnumerable<CompletionEvent> StreamAsync(CompletionRequest request, CancellationToken cancellationToken = default);
}
