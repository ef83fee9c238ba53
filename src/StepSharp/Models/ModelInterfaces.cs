using StepSharp.Models.Common;

namespace StepSharp.Models;

/// <summary>A causal language model: tokens in, next-token logits out, with its state kept in an <see cref="IModelState"/>.</summary>
public interface ICausalLanguageModel : IDisposable
{
    /// <summary>GGUF architecture name (<c>step35</c>, <c>llama</c>).</summary>
    string Architecture { get; }
    int VocabSize { get; }
    /// <summary>Context length the model was trained for.</summary>
    int TrainedContextLength { get; }

    /// <summary>Creates the KV cache and scratch buffers for one sequence.</summary>
    /// <param name="contextLength">Maximum positions the sequence may reach.</param>
    /// <param name="maxBatchTokens">Tokens per forward step (prefill chunk); longer inputs are split.</param>
    /// <param name="cacheType">KV element type: F32 is the exact reference computation; the runtime defaults to F16.</param>
    IModelState CreateState(int contextLength, int maxBatchTokens = 64, KvCacheType cacheType = KvCacheType.F32);

    /// <summary>
    /// Runs <paramref name="tokens"/> at positions <c>state.Position ..</c> and advances the state.
    /// <paramref name="logits"/> receives the last position's logits (length VocabSize), or every position's
    /// (tokens.Length × VocabSize) when <paramref name="allPositions"/> is set.
    /// </summary>
    void Forward(IModelState state, ReadOnlySpan<int> tokens, Span<float> logits, bool allPositions = false);

    /// <summary>Bytes of KV cache one position costs, and the fixed part (sliding-window rings) for a context.</summary>
    KvCacheFootprint KvFootprint(int contextLength, int maxBatchTokens, KvCacheType cacheType = KvCacheType.F32);
}

/// <summary>Per-sequence state: KV caches and position.</summary>
public interface IModelState : IDisposable
{
    /// <summary>Positions already in the cache (= the next token's position).</summary>
    int Position { get; }
    int ContextLength { get; }
    /// <summary>Optional sink for named intermediates (debug dumps, conformance tests). Null in normal runs.</summary>
    IActivationSink? Activations { get; set; }
    /// <summary>Forgets positions ≥ <paramref name="position"/>. Returns false if the cache cannot go back that far
    /// (a sliding-window ring already overwrote what it would need); the caller must then start over.</summary>
    bool TryTruncate(int position);
    /// <summary>KV-cache bytes allocated for this state.</summary>
    long KvBytes { get; }
}

/// <summary>Receives named intermediates, named as llama.cpp's graph callback names them (<c>attn_norm-3</c>).</summary>
public interface IActivationSink
{
    /// <param name="shape">ggml order: ne0 first.</param>
    void Record(string name, ReadOnlySpan<float> data, params int[] shape);
}

/// <summary>KV-cache cost: bytes that grow with each position, and bytes fixed for the sliding-window rings.</summary>
public readonly record struct KvCacheFootprint(long BytesPerPosition, long SlidingBytes, long TotalBytes);
