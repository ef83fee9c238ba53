namespace StepSharp.Inference;

/// <summary>Settings of a <see cref="BatchingCompletionEngine"/>.</summary>
public sealed record BatchingOptions
{
    /// <summary>Largest prompt + generation of one request (capped at the model's trained context).</summary>
    public int ContextLength { get; init; } = 4096;

    /// <summary>Sequences generated together (KV slots); more requests wait in the queue.</summary>
    public int MaxParallel { get; init; } = 4;

    /// <summary>Requests that may wait for a slot; one more is refused with <see cref="QueueFullException"/>.</summary>
    public int MaxQueued { get; init; } = 64;

    /// <summary>Prompt tokens one sequence feeds per step. Chunk boundaries are fixed multiples of this, whatever else
    /// runs, so a prompt is always split the same way (results do not depend on the other requests).</summary>
    public int PrefillChunk { get; init; } = 32;

    /// <summary>KV-cache element type of every slot (F16 by default, as llama.cpp).</summary>
    public Models.Common.KvCacheType CacheType { get; init; } = Models.Common.KvCacheType.F16;

    /// <summary>Prompt tokens per step over all sequences: bounds how long one step (and so every decoding sequence's next token) waits on prefill.</summary>
    public int PrefillTokensPerStep { get; init; } = 64;

    public void Validate()
    {
        if (ContextLength < 2) throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, "the context must hold at least 2 tokens");
        if (MaxParallel < 1) throw new ArgumentOutOfRangeException(nameof(MaxParallel), MaxParallel, "at least one parallel sequence is needed");
        if (MaxQueued < 0) throw new ArgumentOutOfRangeException(nameof(MaxQueued), MaxQueued, "the queue limit must be 0 or more");
        if (PrefillChunk < 1) throw new ArgumentOutOfRangeException(nameof(PrefillChunk), PrefillChunk, "the prefill chunk must be at least 1 token");
        if (PrefillTokensPerStep < PrefillChunk)
            throw new ArgumentOutOfRangeException(nameof(PrefillTokensPerStep), PrefillTokensPerStep, $"the per-step prefill budget must hold at least one chunk ({PrefillChunk} tokens)");
    }
}

/// <summary>Every slot is busy and the wait queue is full; the request was not accepted (HTTP 503).</summary>
public sealed class QueueFullException(int active, int queued)
    : InvalidOperationException($"the server is busy: {active} requests are generating and {queued} are waiting, the most it queues; retry later")
{
    public int Active { get; } = active;
    public int Queued { get; } = queued;
}

/// <summary>A snapshot of a batching engine's counters (for /metrics).</summary>
public readonly record struct BatchingMetrics(
    int ActiveSequences, int QueueDepth, int MaxParallel,
    long RequestsCompleted, long RequestsCancelled, long PromptTokens, long GeneratedTokens, long Steps,
    long KvBytesAllocated, long KvTokensInUse, long KvBytesInUse, long KvTokenCapacity, long PromptTokensReused = 0);
