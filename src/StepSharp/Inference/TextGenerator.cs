using System.Diagnostics;
using StepSharp.Inference.Sampling;
using StepSharp.Models;
using StepSharp.Models.Common;
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
    /// <summary>Report the chosen token's log-probability (and <see cref="SamplingOptions.TopLogprobs"/> alternatives).</summary>
    public bool Logprobs { get; init; }
    /// <summary>Extra end-of-generation ids besides the tokenizer's (Step 3.5 Flash: 1, 2, 128007).</summary>
    public IReadOnlyList<int> ExtraEndOfGenerationIds { get; init; } = [];
}

public enum FinishReason { Stop, Length, Cancelled }

/// <summary>One generated token as it is streamed: its id, the text it completed (may be empty while a UTF-8
/// character or a possible stop string is incomplete) and, when requested, log-probabilities.</summary>
public readonly record struct GeneratedToken(int TokenId, string Text, float Logprob, TokenLogprob[]? TopLogprobs);

/// <summary>A test seam: supplies the tokens a "model" generates instead of running the network.</summary>
public interface IScriptedOutput
{
    /// <summary>The token ids to emit for this prompt (the generator stops after them as on an end token).</summary>
    IReadOnlyList<int> Next(IReadOnlyList<int> promptTokens);
}

/// <summary>What a generation produced and how fast.</summary>
public sealed record GenerationResult(
    int PromptTokens, int GeneratedTokens, IReadOnlyList<int> Tokens, string Text, FinishReason FinishReason,
    TimeSpan PrefillTime, TimeSpan DecodeTime)
{
    /// <summary>From the start of the request to the first generated token.</summary>
    public TimeSpan TimeToFirstToken { get; init; }
    public double PrefillTokensPerSecond => PrefillTime.TotalSeconds > 0 ? PromptTokens / PrefillTime.TotalSeconds : 0;
    /// <summary>Decode speed over the tokens after the first (the first comes out of the prefill).</summary>
    public double DecodeTokensPerSecond => DecodeTime.TotalSeconds > 0 && GeneratedTokens > 1 ? (GeneratedTokens - 1) / DecodeTime.TotalSeconds : 0;
}

/// <summary>
/// Plain autoregressive generation for one sequence: prefill the prompt in batches, then one token per
/// forward pass, sampling, streaming detokenization and stop conditions. Owns its state and buffers, so the
/// per-token loop allocates only the text it hands out (and log-probability arrays when asked for).
/// </summary>
public sealed class TextGenerator : IDisposable
{
    private readonly LoadedModel _model;
    private readonly IModelState _state;
    private readonly float[] _logits;
    private readonly TokenLogprob[] _top = new TokenLogprob[SamplingOptions.MaxTopLogprobs];

    /// <param name="cacheType">KV-cache element type; F16 by default, as llama.cpp.</param>
    public TextGenerator(LoadedModel model, int contextLength, int batchSize = 64, KvCacheType cacheType = KvCacheType.F16)
    {
        _model = model;
        ContextLength = Math.Min(contextLength, Math.Max(1, model.Model.TrainedContextLength));
        _state = model.Model.CreateState(ContextLength, batchSize, cacheType);
        _logits = new float[model.Model.VocabSize];
        BatchSize = batchSize;
    }

    public int ContextLength { get; }
    public int BatchSize { get; }
    public IModelState State => _state;
    public LoadedModel Model => _model;

    /// <summary>When set, tokens come from this script instead of the network (tests of the layers above).</summary>
    public IScriptedOutput? Script { get; set; }

    /// <summary>Tokenizes <paramref name="prompt"/> (adding BOS when the model asks for it, parsing special tokens) and generates.</summary>
    public GenerationResult Generate(string prompt, GenerationOptions options, Action<string>? onText = null,
        Action<int, int>? onPrefillProgress = null, CancellationToken cancellationToken = default)
        => Generate(_model.Tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true), options,
            onText is null ? null : t => { if (t.Text.Length > 0) onText(t.Text); }, onPrefillProgress, cancellationToken);

    public GenerationResult Generate(IReadOnlyList<int> promptTokens, GenerationOptions options, Action<GeneratedToken>? onToken = null,
        Action<int, int>? onPrefillProgress = null, CancellationToken cancellationToken = default)
    {
        if (promptTokens.Count == 0) throw new ArgumentException("the prompt has no tokens", nameof(promptTokens));
        if (promptTokens.Count >= ContextLength)
            throw new ContextLengthExceededException(promptTokens.Count, ContextLength);
        if (options.MaxTokens < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxTokens, "MaxTokens must be 0 or more");
        options.Sampling.Validate();
        var model = _model.Model;
        var tokenizer = _model.Tokenizer;
        _state.TryTruncate(0);

        var stopIds = new HashSet<int>(tokenizer.EndOfGenerationIds);
        foreach (int id in options.ExtraEndOfGenerationIds) stopIds.Add(id);
        var sampler = new Sampler(options.Sampling, model.VocabSize);
        bool wantLogprobs = options.Sampling.TopLogprobs > 0 || options.Logprobs;
        var history = new List<int>(promptTokens.Count + options.MaxTokens);
        history.AddRange(promptTokens);
        int[] prompt = [.. promptTokens];
        IReadOnlyList<int>? script = Script?.Next(promptTokens);

        // Prefill in batch-sized chunks so progress can be reported and the step buffers stay small.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (script is null && options.MaxTokens > 0)
        {
            for (int start = 0; start < prompt.Length; start += BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(BatchSize, prompt.Length - start);
                model.Forward(_state, prompt.AsSpan(start, n), _logits);
                onPrefillProgress?.Invoke(start + n, prompt.Length);
            }
        }
        TimeSpan prefill = clock.Elapsed;

        var detokenizer = new StreamingDetokenizer(tokenizer);
        var stop = new StopStringMatcher(options.StopStrings);
        var text = new System.Text.StringBuilder();
        var generated = new List<int>(Math.Min(options.MaxTokens, 4096));
        FinishReason reason = FinishReason.Length;
        clock.Restart();
        TimeSpan firstTokenAt = TimeSpan.Zero;
        int[] one = new int[1];
        for (int i = 0; i < options.MaxTokens; i++)
        {
            if (cancellationToken.IsCancellationRequested) { reason = FinishReason.Cancelled; break; }
            int token;
            float logprob = 0;
            TokenLogprob[]? top = null;
            if (script is not null)
            {
                if (i >= script.Count) { reason = FinishReason.Stop; break; }
                token = script[i];
            }
            else if (wantLogprobs)
            {
                token = sampler.SampleWithLogprobs(_logits, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history), _top, out logprob, out int topCount);
                top = _top.AsSpan(0, topCount).ToArray();
            }
            else
            {
                token = sampler.Sample(_logits, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(history));
            }
            if (i == 0) firstTokenAt = clock.Elapsed;
            if (!options.IgnoreEndOfGeneration && stopIds.Contains(token)) { reason = FinishReason.Stop; break; }
            generated.Add(token);
            history.Add(token);
            string piece = detokenizer.Push(token);
            string safe = piece.Length > 0 ? stop.Push(piece, out _) : "";
            if (safe.Length > 0) text.Append(safe);
            onToken?.Invoke(new GeneratedToken(token, safe, logprob, top));
            if (stop.Stopped) { reason = FinishReason.Stop; break; }
            if (i + 1 == options.MaxTokens) break;
            if (script is not null) continue;
            if (_state.Position + 1 > ContextLength) { reason = FinishReason.Length; break; }
            one[0] = token;
            model.Forward(_state, one, _logits);
        }
        if (!stop.Stopped)
        {
            string tail = stop.Flush(detokenizer.Flush());
            if (tail.Length > 0)
            {
                text.Append(tail);
                onToken?.Invoke(new GeneratedToken(-1, tail, 0, null));
            }
        }
        TimeSpan decode = clock.Elapsed - firstTokenAt;
        return new GenerationResult(prompt.Length, generated.Count, generated, text.ToString(), reason, prefill, decode)
        {
            TimeToFirstToken = prefill + firstTokenAt,
        };
    }

    public void Dispose() => _state.Dispose();
}

/// <summary>A prompt does not fit the context; the message names both numbers.</summary>
public sealed class ContextLengthExceededException(int promptTokens, int contextLength)
    : ArgumentException($"the prompt has {promptTokens} tokens but the context length is {contextLength} (room is needed for at least one generated token)")
{
    public int PromptTokens { get; } = promptTokens;
    public int ContextLength { get; } = contextLength;
}
