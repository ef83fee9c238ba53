using System.Diagnostics;
using StepSharp.Inference.Sampling;
using StepSharp.Models;
using StepSharp.Models.Common;

namespace StepSharp.Inference;

/// <summary>
/// Plain autoregressive generation for one sequence: prefill the prompt in batches, then one token per
/// forward pass, sampling, streaming detokenization and stop conditions. Owns its state and buffers, so the
/// per-token loop allocates only the text it hands out (and log-probability arrays when asked for).
/// </summary>
public sealed class TextGenerator : IDisposable
{
    private readonly LoadedModel _model;
    private IModelState _state;
    private readonly float[] _logits;
    private readonly KvCacheType _cacheType;
    private readonly List<int> _cached = new(); // the tokens whose K/V the state holds at positions 0..Count−1

    /// <param name="cacheType">KV-cache element type; F16 by default, as llama.cpp.</param>
    public TextGenerator(LoadedModel model, int contextLength, int batchSize = 64, KvCacheType cacheType = KvCacheType.F16)
    {
        _model = model;
        ContextLength = Math.Min(contextLength, Math.Max(1, model.Model.TrainedContextLength));
        _cacheType = cacheType;
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
        ArgumentNullException.ThrowIfNull(promptTokens);
        if (promptTokens.Count == 0) throw new ArgumentException("the prompt has no tokens", nameof(promptTokens));
        if (promptTokens.Count >= ContextLength)
            throw new ContextLengthExceededException(promptTokens.Count, ContextLength);
        options.Sampling.Validate();
        var model = _model.Model;
        var sequence = new SequenceGeneration(_model.Tokenizer, model.VocabSize, promptTokens, options);
        int[] prompt = sequence.Prompt;
        IReadOnlyList<int>? script = Script?.Next(promptTokens);
        int reused = script is null ? ReusePrefix(prompt) : 0;

        // Prefill in batch-sized chunks so progress can be reported and the step buffers stay small.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (script is null && !sequence.IsFinished)
        {
            for (int start = reused; start < prompt.Length; start += BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(BatchSize, prompt.Length - start);
                model.Forward(_state, prompt.AsSpan(start, n), _logits);
                _cached.AddRange(prompt.AsSpan(start, n));
                onPrefillProgress?.Invoke(start + n, prompt.Length);
            }
        }
        TimeSpan prefill = clock.Elapsed;

        clock.Restart();
        TimeSpan firstTokenAt = TimeSpan.Zero;
        int[] one = new int[1];
        while (!sequence.IsFinished)
        {
            if (cancellationToken.IsCancellationRequested) { sequence.Finish(FinishReason.Cancelled); break; }
            int i = sequence.Generated.Count;
            GeneratedToken t;
            if (script is not null)
            {
                if (i >= script.Count) { sequence.Finish(FinishReason.Stop); break; }
                t = sequence.Accept(script[i], 0, null);
            }
            else
            {
                t = sequence.SampleAndAccept(_logits);
            }
            if (i == 0) firstTokenAt = clock.Elapsed;
            if (t.TokenId < 0) break; // end of generation
            onToken?.Invoke(t);
            if (sequence.IsFinished || script is not null) continue;
            if (_state.Position + 1 > ContextLength) { sequence.Finish(FinishReason.Length); break; }
            one[0] = t.TokenId;
            model.Forward(_state, one, _logits);
            _cached.Add(t.TokenId);
        }
        if (sequence.FlushTail() is { } tail) onToken?.Invoke(tail);
        return sequence.ToResult(prefill, clock.Elapsed - firstTokenAt, prefill + firstTokenAt) with { CachedPromptTokens = reused };
    }

    /// <summary>
    /// Prefix reuse across turns (agent loops resend the whole conversation): keeps the cached K/V of the longest
    /// common prefix of the previous request's tokens and this prompt, minus at least the prompt's last token, whose
    /// logits are needed. Falls back to a full prefill when a sliding-window ring cannot go back that far.
    /// </summary>
    private int ReusePrefix(int[] prompt)
    {
        int common = PromptPrefix.Reusable(_cached, prompt);
        if (common > 0 && _state.TryTruncate(common))
        {
            _cached.RemoveRange(common, _cached.Count - common);
            return common;
        }
        ResetState();
        return 0;
    }

    /// <summary>Back to position 0; a state whose sliding rings refuse the rewind is replaced.</summary>
    private void ResetState()
    {
        _cached.Clear();
        if (_state.TryTruncate(0)) return;
        _state.Dispose();
        _state = _model.Model.CreateState(ContextLength, BatchSize, _cacheType);
    }

    public void Dispose() => _state.Dispose();
}
