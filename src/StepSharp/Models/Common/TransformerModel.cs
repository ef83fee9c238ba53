using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Tensors;

namespace StepSharp.Models.Common;

/// <summary>
/// What every decoder-only model here shares: argument checks, splitting long inputs into steps of at most
/// the state's batch size, token embedding lookup, and the final norm + LM head. A model supplies its layers.
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

    public abstract IModelState CreateState(int contextLength, int maxBatchTokens = 64);
    public abstract KvCacheFootprint KvFootprint(int contextLength, int maxBatchTokens);

    /// <summary>Runs every layer over the step's rows of <c>Buffers.Hidden</c> (already embedded).</summary>
    protected abstract void ForwardLayers(SequenceState state, int tokens, int startPosition);

    public void Forward(IModelState state, ReadOnlySpan<int> tokens, Span<float> logits, bool allPositions = false)
    {
        var s = state as SequenceState;
        if (s is null || !ReferenceEquals(s.Owner, this)) throw new ArgumentException("the state was not created by this model", nameof(state));
        int V = VocabSize;
        if (logits.Length < (allPositions ? tokens.Length * V : V))
            throw new ArgumentException($"logits buffer holds {logits.Length} values; {(allPositions ? tokens.Length : 1)}×{V} needed", nameof(logits));
        foreach (int tok in tokens)
            if ((uint)tok >= (uint)V) throw new ArgumentOutOfRangeException(nameof(tokens), tok, $"token id outside the vocabulary of {V}");
        s.EnsureRoom(tokens.Length);

        int chunk = s.Buffers.MaxTokens;
        for (int start = 0; start < tokens.Length; start += chunk)
        {
            int n = Math.Min(chunk, tokens.Length - start);
            bool last = start + n == tokens.Length;
            Span<float> dst = allPositions ? logits.Slice(start * V, n * V) : last ? logits[..V] : default;
            ForwardStep(s, tokens.Slice(start, n), dst, allPositions, computeLogits: allPositions || last);
        }
    }

    private void ForwardStep(SequenceState s, ReadOnlySpan<int> tokens, Span<float> logits, bool allPositions, bool computeLogits)
    {
        var b = s.Buffers;
        var sink = s.Activations;
        int T = tokens.Length, D = HiddenSize, start = s.Position;

        // h = Embed[token] (no scaling)
        for (int t = 0; t < T; t++) TokenEmbedding.DequantizeRow(tokens[t], b.Hidden.AsSpan(t * D, D));
        ForwardLayers(s, T, start);
        s.Position = start + T;

        Span<float> h = b.Hidden.AsSpan(0, T * D);
        sink?.Record("h_nextn", h, D, T);
        if (!computeLogits) return;

        // logits = RMSNorm(h; output_norm)·W_lm, for the last row or every row
        int first = allPositions ? 0 : T - 1, rows = T - first;
        Span<float> normed = b.Normed.AsSpan(0, rows * D);
        for (int t = 0; t < rows; t++) RmsNorm.Apply(h.Slice((first + t) * D, D), OutputNorm, normed.Slice(t * D, D), RmsEpsilon);
        sink?.Record("result_norm", normed, D, rows);
        MatMul.Compute(Pool, Output, 0, VocabSize, normed, rows, logits);
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
