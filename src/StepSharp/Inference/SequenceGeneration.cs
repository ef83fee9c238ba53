using System.Runtime.InteropServices;
using System.Text;
using System.Numerics.Tensors;
using StepSharp.Inference.Constraints;
using StepSharp.Inference.Sampling;
using StepSharp.Tokenization;

namespace StepSharp.Inference;

/// <summary>
/// The bookkeeping of one sequence's generation, shared by <see cref="TextGenerator"/> (one sequence) and
/// <see cref="BatchingCompletionEngine"/> (many): its sampler and history, streaming detokenization, stop
/// strings, end-of-generation ids and the token limit. The caller runs the network and hands over logits;
/// this decides what the token is, what text it shows, and when the generation is over.
/// </summary>
public sealed class SequenceGeneration
{
    private readonly GenerationOptions _options;
    private readonly HashSet<int> _stopIds;
    private readonly Sampler _sampler;
    private readonly bool _wantLogprobs;
    private readonly List<int> _history;
    private readonly List<int> _generated;
    private readonly StreamingDetokenizer _detokenizer;
    private readonly StopStringMatcher _stop;
    private readonly StringBuilder _text = new();
    private readonly TokenLogprob[] _top = new TokenLogprob[SamplingOptions.MaxTopLogprobs];
    private readonly ITokenizer _tokenizer;
    private readonly IOutputConstraint? _constraint;

    public SequenceGeneration(ITokenizer tokenizer, int vocabSize, IReadOnlyList<int> promptTokens, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(promptTokens);
        ArgumentNullException.ThrowIfNull(options);
        if (promptTokens.Count == 0) throw new ArgumentException("the prompt has no tokens", nameof(promptTokens));
        if (options.MaxTokens < 0) throw new ArgumentOutOfRangeException(nameof(options), options.MaxTokens, "MaxTokens must be 0 or more");
        foreach (int id in promptTokens)
            if ((uint)id >= (uint)vocabSize) throw new ArgumentOutOfRangeException(nameof(promptTokens), id, $"prompt token {id} is outside the vocabulary of {vocabSize}");
        _options = options;
        _tokenizer = tokenizer;
        _constraint = options.Constraint?.Invoke();
        _sampler = new Sampler(options.Sampling, vocabSize);
        _stopIds = new HashSet<int>(tokenizer.EndOfGenerationIds);
        foreach (int id in options.ExtraEndOfGenerationIds) _stopIds.Add(id);
        _wantLogprobs = options.Sampling.TopLogprobs > 0 || options.Logprobs;
        Prompt = [.. promptTokens];
        _history = new List<int>(Prompt.Length + Math.Min(options.MaxTokens, 1 << 16));
        _history.AddRange(Prompt);
        _generated = new List<int>(Math.Min(options.MaxTokens, 4096));
        _detokenizer = new StreamingDetokenizer(tokenizer);
        _stop = new StopStringMatcher(options.StopStrings);
        if (options.MaxTokens == 0) Finish(FinishReason.Length);
    }

    public GenerationOptions Options => _options;
    public int[] Prompt { get; }
    public IReadOnlyList<int> Generated => _generated;
    /// <summary>The last generated token (the one to feed to the network next), or -1.</summary>
    public int LastToken => _generated.Count > 0 ? _generated[^1] : -1;
    public bool IsFinished { get; private set; }
    public FinishReason FinishReason { get; private set; } = FinishReason.Length;
    public string Text => _text.ToString();

    /// <summary>Samples the next token from <paramref name="logits"/> (modified in place) and accepts it.</summary>
    /// <returns>The token to stream; <see cref="GeneratedToken.TokenId"/> is -1 when nothing is to be shown (end of generation).</returns>
    public GeneratedToken SampleAndAccept(Span<float> logits)
    {
        ReadOnlySpan<int> history = CollectionsMarshal.AsSpan(_history);
        if (!_wantLogprobs) return Accept(Constrain(logits, _sampler.Sample(logits, history)), 0, null);
        int token = _sampler.SampleWithLogprobs(logits, history, _top, out float logprob, out int topCount);
        float logZ = logits[token] - logprob; // the normaliser of the distribution the log-probabilities are reported from
        int allowed = Constrain(logits, token);
        // A re-drawn token keeps its log-probability in that same (unconstrained) distribution.
        return Accept(allowed, allowed == token || allowed < 0 ? logprob : logits[allowed] - logZ, _top.AsSpan(0, topCount).ToArray());
    }

    /// <summary>
    /// Constrained decoding: while the constraint refuses the drawn token, remove it and draw again; after a few
    /// refusals, remove every refused token at once (one pass over the vocabulary). −1 when nothing is allowed.
    /// </summary>
    private int Constrain(Span<float> logits, int token)
    {
        if (_constraint is null) return token;
        for (int attempt = 0; ; attempt++)
        {
            if (token >= 0 && _constraint.Allows(_tokenizer.TokenBytes(token), EndsGeneration(token))) return token;
            if (token >= 0) logits[token] = float.NegativeInfinity;
            if (attempt == 16)
            {
                for (int v = 0; v < logits.Length; v++)
                    if (!float.IsNegativeInfinity(logits[v]) && (v >= _tokenizer.VocabSize || !_constraint.Allows(_tokenizer.TokenBytes(v), EndsGeneration(v))))
                        logits[v] = float.NegativeInfinity;
            }
            if (float.IsNegativeInfinity(TensorPrimitives.Max(logits))) return -1;
            token = _sampler.Redraw(logits);
        }
    }

    private bool EndsGeneration(int token) => !_options.IgnoreEndOfGeneration && _stopIds.Contains(token);

    /// <summary>
    /// Takes <paramref name="token"/> as generated: an end-of-generation id finishes (and is not shown); otherwise the
    /// token's text passes the stop-string matcher, and the generation finishes on a stop string or the token limit.
    /// </summary>
    public GeneratedToken Accept(int token, float logprob, TokenLogprob[]? top)
    {
        if (IsFinished) throw new InvalidOperationException("the generation has already finished");
        if (token < 0 || (!_options.IgnoreEndOfGeneration && _stopIds.Contains(token)))
        {
            Finish(FinishReason.Stop);
            return new GeneratedToken(-1, "", 0, null);
        }
        _generated.Add(token);
        _history.Add(token);
        // Scripted outputs (tests of the layers above) may break a constraint; it then stays where it was.
        if (_constraint is not null && _constraint.Allows(_tokenizer.TokenBytes(token), false)) _constraint.Accept(_tokenizer.TokenBytes(token));
        string piece = _detokenizer.Push(token);
        string safe = piece.Length > 0 ? _stop.Push(piece, out _) : "";
        if (safe.Length > 0) _text.Append(safe);
        if (_stop.Stopped || _constraint?.IsComplete == true) Finish(FinishReason.Stop);
        else if (_generated.Count >= _options.MaxTokens) Finish(FinishReason.Length);
        return new GeneratedToken(token, safe, logprob, top);
    }

    /// <summary>Ends the generation (context full, cancelled, script over); the first reason given wins.</summary>
    public void Finish(FinishReason reason)
    {
        if (IsFinished) return;
        IsFinished = true;
        FinishReason = reason;
    }

    /// <summary>
    /// After the end: releases text held back by the detokenizer and the stop matcher (it can no longer become a
    /// stop string). Returns the piece to stream with id -1, or null when there is none.
    /// </summary>
    public GeneratedToken? FlushTail()
    {
        if (_stop.Stopped) return null;
        string tail = _stop.Flush(_detokenizer.Flush());
        if (tail.Length == 0) return null;
        _text.Append(tail);
        return new GeneratedToken(-1, tail, 0, null);
    }

    public GenerationResult ToResult(TimeSpan prefill, TimeSpan decode, TimeSpan timeToFirstToken)
        => new(Prompt.Length, _generated.Count, _generated.ToArray(), Text, FinishReason, prefill, decode)
        {
            TimeToFirstToken = timeToFirstToken,
            StopString = _stop.MatchedStopString,
        };
}
