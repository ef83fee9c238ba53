using StepSharp.Models.Common;
using StepSharp.Models.Step35;

namespace StepSharp.Inference;

/// <summary>One verification step of speculative decoding.</summary>
public sealed record SpeculativeStep(int PastTokens, int LastToken, int[] Draft, int[] TargetArgmax, int Accepted, int[] Emitted);

/// <summary>
/// Greedy speculative decoding with Step 3.5's own MTP heads as the drafter (spec §3.3), following llama.cpp's
/// draft-mtp driver: the heads draft up to <c>maxDraft</c> tokens from the last emitted token and the trunk's
/// pre-norm hidden state, the trunk verifies [last, drafts…] in one batch, the longest prefix on which the trunk's
/// argmax agrees with the drafts is accepted plus the trunk's own next token, and both caches roll back past it.
/// With one head it is reused for every draft step; with several, head i runs the whole chain (README of
/// testdata/step35-tiny, "MTP references"). The output always equals plain greedy decoding; only the number of
/// trunk passes changes.
/// </summary>
public sealed class MtpSpeculativeDecoder : IDisposable
{
    private readonly Step35Model _model;
    private readonly SequenceState _state;
    private readonly int _maxDraft;
    private readonly int _chunk;

    public MtpSpeculativeDecoder(Step35Model model, int contextLength, int maxDraft, KvCacheType cacheType = KvCacheType.F16, int prefillChunk = 64)
    {
        if (model.NextN.Length == 0) throw new ArgumentException("the model has no MTP (NextN) heads to draft with");
        if (maxDraft < 0) throw new ArgumentOutOfRangeException(nameof(maxDraft), maxDraft, "the draft length must be 0 or more");
        _model = model;
        _maxDraft = maxDraft;
        _chunk = Math.Max(prefillChunk, maxDraft + 1);
        _state = (SequenceState)model.CreateState(contextLength, _chunk, cacheType);
        ContextLength = contextLength;
    }

    public int ContextLength { get; }

    /// <summary>Trunk verification passes and accepted drafts of the last generation (acceptance statistics).</summary>
    public int Steps { get; private set; }
    public int Drafted { get; private set; }
    public int Accepted { get; private set; }

    /// <summary>
    /// Generates up to <paramref name="maxTokens"/> greedy tokens after <paramref name="prompt"/>, stopping before the
    /// first token in <paramref name="endOfGeneration"/> (which is not returned).
    /// </summary>
    public IReadOnlyList<int> GenerateGreedy(IReadOnlyList<int> prompt, int maxTokens, Action<SpeculativeStep>? onStep = null,
        IReadOnlySet<int>? endOfGeneration = null, Action<int>? onToken = null)
    {
        int P = prompt.Count, D = _model.HiddenSize, V = _model.VocabSize, heads = _model.NextN.Length;
        if (P == 0) throw new ArgumentException("the prompt has no tokens", nameof(prompt));
        if (P + maxTokens > ContextLength) throw new ContextLengthExceededException(P + maxTokens, ContextLength);
        var generated = new List<int>(maxTokens);
        if (maxTokens == 0) return generated;
        _state.TryTruncate(0);
        Steps = Drafted = Accepted = 0;

        // Prompt: trunk pass with every pre-norm hidden state, then every head over the rows (x_p, h_{p−1}).
        int[] tokens = [.. prompt];
        var hidden = new float[P * D];
        var logits = new float[(_maxDraft + 1) * V];
        _model.Forward(_state, tokens, logits.AsSpan(0, V), false, hidden);
        var shifted = new float[P * D];
        hidden.AsSpan(0, (P - 1) * D).CopyTo(shifted.AsSpan(D)); // row 0 (BOS) gets a zero hidden state
        Process(tokens, shifted, 0);

        int idLast = ArgMax(logits.AsSpan(0, V));
        if (endOfGeneration?.Contains(idLast) == true) return generated;
        generated.Add(idLast);
        onToken?.Invoke(idLast);
        float[] pendingH = hidden.AsSpan((P - 1) * D, D).ToArray();
        int nPast = P;
        var draftLogits = new float[V];
        var verifyHidden = new float[(_maxDraft + 1) * D];
        while (generated.Count < maxTokens)
        {
            int remaining = maxTokens - generated.Count;
            int k = Math.Max(0, Math.Min(_maxDraft, Math.Min(ContextLength - nPast - 2, remaining - 1)));
            int[] draft = Draft(idLast, pendingH, nPast, k, draftLogits);

            // Verify [last, drafts…] at nPast.. in one trunk pass.
            int[] verify = [idLast, .. draft];
            _state.TryTruncate(nPast);
            _model.Forward(_state, verify, logits.AsSpan(0, verify.Length * V), true, verifyHidden);
            int[] target = new int[verify.Length];
            for (int i = 0; i < verify.Length; i++) target[i] = ArgMax(logits.AsSpan(i * V, V));
            int accepted = 0;
            while (accepted < draft.Length && draft[accepted] == target[accepted]) accepted++;
            int[] emitted = target[..(accepted + 1)];
            if (!_state.TryTruncate(nPast + accepted + 1)) throw new InvalidOperationException("the trunk cache could not roll back the rejected drafts");

            // The heads see the accepted rows: (x_p, h_{p−1}) for p = nPast .. nPast + accepted.
            var rowHidden = new float[(accepted + 1) * D];
            pendingH.CopyTo(rowHidden, 0);
            verifyHidden.AsSpan(0, accepted * D).CopyTo(rowHidden.AsSpan(D));
            Process(verify[..(accepted + 1)], rowHidden, nPast);

            Steps++;
            Drafted += draft.Length;
            Accepted += accepted;
            onStep?.Invoke(new SpeculativeStep(nPast, idLast, draft, target, accepted, emitted));
            pendingH = verifyHidden.AsSpan(accepted * D, D).ToArray();
            nPast += accepted + 1;
            idLast = emitted[^1];
            foreach (int t in emitted)
            {
                if (endOfGeneration?.Contains(t) == true) return generated;
                if (generated.Count == maxTokens) break;
                generated.Add(t);
                onToken?.Invoke(t);
            }
        }
        return generated;
    }

    /// <summary>Drafts k tokens: head 0 reused step by step, or head i over the whole chain when there are several heads.</summary>
    private int[] Draft(int idLast, float[] pendingH, int nPast, int k, float[] logits)
    {
        int D = _model.HiddenSize, heads = _model.NextN.Length;
        var draft = new int[k];
        var chainTokens = new int[k + 1];
        var chainHidden = new float[(k + 1) * D];
        chainTokens[0] = idLast;
        pendingH.CopyTo(chainHidden, 0);
        var hOut = new float[(k + 1) * D];
        for (int i = 0; i < k; i++)
        {
            if (heads == 1)
            {
                _model.ForwardNextN(0, _state, chainTokens.AsSpan(i, 1), chainHidden.AsSpan(i * D, D), [nPast + i], hOut.AsSpan(0, D), logits);
                hOut.AsSpan(0, D).CopyTo(chainHidden.AsSpan((i + 1) * D));
            }
            else
            {
                int head = Math.Min(i, heads - 1);
                int rows = i + 1;
                var positions = new int[rows];
                for (int r = 0; r < rows; r++) positions[r] = nPast + r;
                var all = new float[rows * _model.VocabSize];
                _model.ForwardNextN(head, _state, chainTokens.AsSpan(0, rows), chainHidden.AsSpan(0, rows * D), positions, hOut.AsSpan(0, rows * D), all);
                all.AsSpan((rows - 1) * _model.VocabSize, _model.VocabSize).CopyTo(logits);
                hOut.AsSpan((rows - 1) * D, D).CopyTo(chainHidden.AsSpan((i + 1) * D));
            }
            draft[i] = ArgMax(logits);
            chainTokens[i + 1] = draft[i];
        }
        return draft;
    }

    /// <summary>Every head over trunk rows starting at <paramref name="start"/>, in chunks the state's buffers hold.</summary>
    private void Process(ReadOnlySpan<int> tokens, ReadOnlySpan<float> hiddenIn, int start)
    {
        int D = _model.HiddenSize;
        var hOut = new float[Math.Min(tokens.Length, _chunk) * D];
        for (int head = 0; head < _model.NextN.Length; head++)
            for (int s = 0; s < tokens.Length; s += _chunk)
            {
                int n = Math.Min(_chunk, tokens.Length - s);
                var positions = new int[n];
                for (int i = 0; i < n; i++) positions[i] = start + s + i;
                _model.ForwardNextN(head, _state, tokens.Slice(s, n), hiddenIn.Slice(s * D, n * D), positions, hOut.AsSpan(0, n * D), default);
            }
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    public void Dispose() => _state.Dispose();
}
