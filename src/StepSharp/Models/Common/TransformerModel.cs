using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Tensors;

namespace StepSharp.Models.Common;

/// <summary>
/// What every decoder-only model here shares: argument checks, splitting long inputs into steps, token
/// embedding lookup, the final norm + LM head, and multi-sequence steps for continuous batching.
/// A model supplies its layers.
/// </summary>
public abstract class TransformerModel : ICausalLanguageModel
{
    private readonly GgufFile _file;
    private readonly bool _ownsFile;

    protected TransformerModel(GgufFile file, bool ownsFile, KernelThreadPool pool)
    {
        _file = file;
        _ownsFile = ownsFile;
        Pool = pool;
    }

    public KernelThreadPool Pool { get; }
    public abstract string Architecture { get; }
    public abstract int VocabSize { get; }
    public abstract int TrainedContextLength { get; }
    public abstract int HiddenSize { get; }
    public abstract float RmsEpsilon { get; }
    public TensorView TokenEmbedding { get; protected init; }  // (V, D)
    public float[] OutputNorm { get; protected init; } = [];   // (D)
    public TensorView Output { get; protected init; }          // (V, D) LM head (the embedding when tied)

    public abstract IModelState CreateState(int contextLength, int maxBatchTokens = 64, KvCacheType cacheType = KvCacheType.F32);
    public abstract KvCacheFootprint KvFootprint(int contextLength, int maxBatchTokens, KvCacheType cacheType = KvCacheType.F32);
    /// <summary>Scratch sizes for a step (the maximum over layers).</summary>
    protected abstract ForwardDimensions Dimensions { get; }

    /// <summary>Runs every layer over the step's rows of <c>buffers.Hidden</c> (already embedded).</summary>
    protected abstract void ForwardLayers(ForwardBuffers buffers, StepRows rows, IActivationSink? sink);

    public void Forward(IModelState state, ReadOnlySpan<int> tokens, Span<float> logits, bool allPositions = false) =>
        Forward(state, tokens, logits, allPositions, default);

    /// <summary>
    /// As <see cref="Forward(IModelState, ReadOnlySpan{int}, Span{float}, bool)"/>, also copying every position's last
    /// hidden state before the final norm (what MTP heads take as input, spec §3.2) to <paramref name="hiddenOut"/>
    /// (tokens × hidden) when it is not empty.
    /// </summary>
    public void Forward(IModelState state, ReadOnlySpan<int> tokens, Span<float> logits, bool allPositions, Span<float> hiddenOut)
    {
        var s = Own(state);
        int V = VocabSize;
        if (logits.Length < (allPositions ? tokens.Length * V : V))
            throw new ArgumentException($"logits buffer holds {logits.Length} values; {(allPositions ? tokens.Length : 1)}×{V} needed", nameof(logits));
        foreach (int tok in tokens)
            if ((uint)tok >= (uint)V) throw new ArgumentOutOfRangeException(nameof(tokens), tok, $"token id outside the vocabulary of {V}");
        s.EnsureRoom(tokens.Length);
        if (!hiddenOut.IsEmpty && hiddenOut.Length < tokens.Length * HiddenSize)
            throw new ArgumentException($"hidden buffer holds {hiddenOut.Length} values; {tokens.Length}×{HiddenSize} needed", nameof(hiddenOut));

        StepRows rows = s.Rows;
        int chunk = s.Buffers.MaxTokens;
        for (int start = 0; start < tokens.Length; start += chunk)
        {
            int n = Math.Min(chunk, tokens.Length - start);
            bool last = start + n == tokens.Length;
            rows.Clear();
            for (int i = 0; i < n; i++) rows.Add(s, tokens[start + i], allPositions || (last && i == n - 1));
            Span<float> dst = allPositions ? logits.Slice(start * V, n * V) : last ? logits[..V] : default;
            RunStep(s.Buffers, rows, dst, s.Activations);
            if (!hiddenOut.IsEmpty) s.Buffers.Hidden.AsSpan(0, n * HiddenSize).CopyTo(hiddenOut.Slice(start * HiddenSize));
        }
    }

    /// <summary>Buffers for multi-sequence steps of up to <paramref name="maxRows"/> rows (owned by a batch scheduler).</summary>
    public ForwardBuffers CreateStepBuffers(int maxRows) => new(Dimensions, maxRows);

    /// <summary>
    /// One step over rows of several sequences (continuous batching). Writes the logits of
    /// <c>rows.LogitRows</c>, in order, to <paramref name="logits"/>, and advances each sequence.
    /// </summary>
    public void ForwardBatch(ForwardBuffers buffers, StepRows rows, Span<float> logits)
    {
        if (rows.Count > buffers.MaxTokens) throw new ArgumentException($"the step has {rows.Count} rows, the buffers hold {buffers.MaxTokens}");
        if (logits.Length < rows.LogitCount * VocabSize) throw new ArgumentException($"logits buffer holds {logits.Length} values; {rows.LogitCount}×{VocabSize} needed");
        for (int i = 0; i < rows.Count; i++)
        {
            Own(rows.Sequences[i]);
            if ((uint)rows.Tokens[i] >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(rows), rows.Tokens[i], $"token id outside the vocabulary of {VocabSize}");
        }
        RunStep(buffers, rows, logits, sink: null);
    }

    private void RunStep(ForwardBuffers b, StepRows rows, Span<float> logits, IActivationSink? sink)
    {
        int T = rows.Count, D = HiddenSize;
        if (T == 0) return;

        // h = Embed[token] (no scaling)
        for (int t = 0; t < T; t++) TokenEmbedding.DequantizeRow(rows.Tokens[t], b.Hidden.AsSpan(t * D, D));
        ForwardLayers(b, rows, sink);
        rows.Commit();

        Span<float> h = b.Hidden.AsSpan(0, T * D);
        sink?.Record("h_nextn", h, D, T);
        int n = rows.LogitCount;
        if (n == 0) return;

        // logits = RMSNorm(h; output_norm)·W_lm for the rows that want them
        Span<float> normed = b.Normed.AsSpan(0, n * D);
        for (int i = 0; i < n; i++) RmsNorm.Apply(h.Slice(rows.LogitRows[i] * D, D), OutputNorm, normed.Slice(i * D, D), RmsEpsilon);
        sink?.Record("result_norm", normed, D, n);
        MatMul.Compute(Pool, Output, 0, VocabSize, normed, n, logits);
    }

    private SequenceState Own(IModelState state)
    {
        if (state is SequenceState s && ReferenceEquals(s.Owner, this)) return s;
        throw new ArgumentException("the state was not created by this model", nameof(state));
    }

    /// <summary>The embedding matrix, checked to be (V, D).</summary>
    protected static TensorView LoadEmbedding(WeightLoader w, GgufFile file, int hidden)
    {
        TensorView embedding = file.TryGetTensor("token_embd.weight") ?? throw new InvalidDataException($"{file.Path}: tensor 'token_embd.weight' is missing");
        return w.Matrix("token_embd.weight", hidden, embedding.Shape.Length > 1 ? embedding.Shape[1] : 0);
    }

    public void Dispose()
    {
        if (_ownsFile) _file.Dispose();
        GC.SuppressFinalize(this);
    }
}
