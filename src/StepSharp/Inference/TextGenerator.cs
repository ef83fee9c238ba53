using System.Diagnostics;
using StepSharp.Inference.Sampling;
using StepSharp.Models;
using StepSharp.Tokenization;

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
    /// <summary>Extra end-of-generation ids besides the tokenizer's (Step 3.5 Flash: 1, 2, 128007).</summary>
    public IReadOnlyList<int> ExtraEndOfGenerationIds { get; init; } = [];
}

public enum FinishReason { Stop, Length, Cancelled }

/// <summary>What a generation produced and how fast.</summary>
public sealed record GenerationResult(
    int PromptTokens, int GeneratedTokens, IReadOnlyList<int> Tokens, string Text, FinishReason FinishReason,
    TimeSpan PrefillTime, TimeSpan DecodeTime)
{
    public double PrefillTokensPerSecond => PrefillTime.TotalSeconds > 0 ? PromptTokens / PrefillTime.TotalSeconds : 0;
    /// <summary>Decode speed over the tokens after the first (the first comes out of the prefill).</summary>
    public double DecodeTokensPerSecond => DecodeTime.TotalSeconds > 0 && GeneratedTokens > 1 ? (GeneratedTokens - 1) / DecodeTime.TotalSeconds : 0;
}

/// <summary>
/// Plain autoregressive generation for one sequence: prefill the prompt in batches, then one token per
/// forward pass, sampling, streaming detokenization and stop conditions. Owns its state and buffers, so the
/// per-token loop allocates only the text it hands out.
/// </summary>
public sealed class TextGenerator : IDisposable
{
    private readonly LoadedModel _model;
    private readonly IModelState _state;
    private readonly float[] _logits;

    public TextGenerator(LoadedModel model, int contextLength, int batchSize = 64)
    {
        _model = model;
        ContextLength = Math.Min(contextLength, Math.Max(1, model.Model.TrainedContextLength));
        _state = model.Model.CreateState(ContextLength, batchSize);
        _logits = new float[model.Model.VocabSize];
        BatchSize = batchSize;
    }

    public int ContextLength { get; }
    public int BatchSize { get; }
    public IModelState State => _state;

    /// <summary>Tokenizes <paramref name="prompt"/> (adding BOS when the model asks for it, parsing special tokens) and generates.</summary>
    public GenerationResult Generate(string prompt, GenerationOptions options, Action<string>? onText = null,
        Action<int, int>? onPrefillProgress = null, CancellationToken cancellationToken = default)
        => Generate(_model.Tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true), options, onText, onPrefillProgress, cancellationToken);

    public GenerationResult Generate(IReadOnlyList<int> promptTokens, GenerationOptions options, Action<string>? onText = null,
        Action<int, int>? onPrefillProgress = null, CancellationToken cancellationToken = default)
    {
        if (promptTokens.Count == 0) throw new ArgumentException("the prompt has no tokens", nameof(promptTokens));
        if (promptTokens.Count >= ContextLength)
            throw new ArgumentException($"the prompt has {promptTokens.Count} tokens; the context length is {ContextLength}", nameof(promptTokens));
        var model = _model.Model;
        var tokenizer = _model.Tokenizer;
        _state.TryTruncate(0);

        var stopIds = new HashSet<int>(tokenizer.EndOfGenerationIds);
        foreach (int id in options.ExtraEndOfGenerationIds) stopIds.Add(id);
        var sampler = new Sampler(options.Sampling, model.VocabSize);
        var history = new List<int>(promptTokens.Count + options.MaxTokens);
        history.AddRange(promptTokens);
        int[] prompt = [.. promptTokens];

        // Prefill in batch-sized chunks so progress can be reported and the step buffers stay small.
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < prompt.Length; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(BatchSize, prompt.Length - start);
            model.Forward(_state, prompt.AsSpan(start, n), _logits);
            onPrefillProgress?.Invoke(start + n, prompt.Length);
        }
        TimeSpan prefill = clock.Elapsed;

        var detokenizer = new StreamingDetokenizer(tokenizer);
        var stop = new StopStringMatcher(options.StopStrings);
        var text = new System.Text.StringBuilder();
        var generated = new List<int>(options.MaxTokens);
        FinishReason reason = FinishReason.Length;
        clock.Restart();
        TimeSpan firstTokenAt = TimeSpan.Zero;
        int[] one = new int[1];
        for (int i = 0; i < options.MaxTokens; i++)
        {
            if (cancellationToken.IsCancellationRequested) { reason = FinishReason.Cancelled; break; }
            int token = sampler.Sample(_logits, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
            if (i == 0) firstTokenAt = clock.Elapsed;
            if (!options.IgnoreEndOfGeneration && stopIds.Contains(token)) { reason = FinishReason.Stop; break; }
            generated.Add(token);
            history.Add(token);
            string piece = detokenizer.Push(token);
            if (piece.Length > 0)
            {
                string safe = stop.Push(piece, out bool stopped);
                if (safe.Length > 0) { text.Append(safe); onText?.Invoke(safe); }
                if (stopped) { reason = FinishReason.Stop; break; }
            }
            if (i + 1 == options.MaxTokens) break;
            if (_state.Position + 1 > ContextLength) { reason = FinishReason.Length; break; }
            one[0] = token;
            model.Forward(_state, one, _logits);
        }
        if (reason != FinishReason.Stop || !stop.Stopped)
        {
            string tail = stop.Flush(detokenizer.Flush());
            if (tail.Length > 0) { text.Append(tail); onText?.Invoke(tail); }
        }
        TimeSpan decode = clock.Elapsed - firstTokenAt;
        return new GenerationResult(prompt.Length, generated.Count, generated, text.ToString(), reason, prefill, decode);
    }

    public void Dispose() => _state.Dispose();
}
