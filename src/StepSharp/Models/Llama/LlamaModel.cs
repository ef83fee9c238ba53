using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models.Common;
using StepSharp.Tensors;

namespace StepSharp.Models.Llama;

/// <summary>
/// A dense Llama-family model (GGUF arch <c>llama</c>): pre-norm GQA attention with interleaved RoPE and a
/// SwiGLU MLP in every layer. It shares the attention, FFN and KV-cache code with Step 3.5, and is what
/// the real trained test model (stories260K) uses.
/// </summary>
public sealed class LlamaModel : TransformerModel
{
    public const string ArchitectureName = "llama";
    private readonly AttentionLayer[] _attention;
    private readonly float[][] _ffnNorm;
    private readonly FeedForward[] _ffn;
    private readonly int _hidden, _feedForward, _maxHeads, _maxKv, _headDim;
    private readonly float _epsilon;

    private LlamaModel(GgufFile file, bool ownsFile, KernelThreadPool pool) : base(file, ownsFile, pool)
    {
        var md = file.Metadata;
        string src = file.Path, p = ArchitectureName + ".";
        int layers = Required(md, src, p + "block_count");
        _hidden = Required(md, src, p + "embedding_length");
        int heads = Required(md, src, p + "attention.head_count");
        int kvHeads = (int)md.GetInt64(p + "attention.head_count_kv", heads);
        if (heads % kvHeads != 0) throw new InvalidDataException($"{src}: {heads} query heads are not a multiple of {kvHeads} KV heads");
        _headDim = _hidden / heads;
        _feedForward = Required(md, src, p + "feed_forward_length");
        _epsilon = md.GetFloat32(p + "attention.layer_norm_rms_epsilon", 1e-5f);
        TrainedContextLength = (int)md.GetInt64(p + "context_length", 2048);
        int ropeDims = (int)md.GetInt64(p + "rope.dimension_count", _headDim);
        float theta = md.GetFloat32(p + "rope.freq_base", 10_000f);
        _maxHeads = heads;
        _maxKv = kvHeads;

        var w = new WeightLoader(file);
        TokenEmbedding = LoadEmbedding(w, file, _hidden);
        VocabSize = checked((int)TokenEmbedding.Shape[1]);
        OutputNorm = w.Vector("output_norm.weight", _hidden);
        Output = w.OptionalMatrix("output.weight", _hidden, VocabSize) ?? TokenEmbedding;
        float[]? ropeFactors = w.OptionalVector("rope_freqs.weight", ropeDims / 2);
        var rope = new RotaryEmbedding(ropeDims, theta, RopeStyle.Interleaved, ropeFactors);

        _attention = new AttentionLayer[layers];
        _ffnNorm = new float[layers][];
        _ffn = new FeedForward[layers];
        for (int l = 0; l < layers; l++)
        {
            string b = $"blk.{l}.";
            var aw = AttentionWeights.Load(w, b, _hidden, heads, kvHeads, _headDim, gated: false);
            _attention[l] = new AttentionLayer(l, aw, heads, kvHeads, _headDim, window: 0, rope, _epsilon);
            _ffnNorm[l] = w.Vector(b + "ffn_norm.weight", _hidden);
            _ffn[l] = new FeedForward(w.Matrix(b + "ffn_gate.weight", _hidden, _feedForward), w.Matrix(b + "ffn_up.weight", _hidden, _feedForward),
                w.Matrix(b + "ffn_down.weight", _feedForward, _hidden), _hidden, _feedForward, swiGluLimit: 0);
        }
    }

    public static LlamaModel Load(GgufFile file, KernelThreadPool pool, bool ownsFile = false) => new(file, ownsFile, pool);

    public override string Architecture => ArchitectureName;
    public override int VocabSize { get; }
    public override int TrainedContextLength { get; }
    public override int HiddenSize => _hidden;
    public override float RmsEpsilon => _epsilon;
    public int LayerCount => _attention.Length;

    public override IModelState CreateState(int contextLength, int maxBatchTokens = 64, KvCacheType cacheType = KvCacheType.F32)
    {
        if (contextLength <= 0) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "context length must be positive");
        var caches = new LayerKvCache[_attention.Length];
        for (int l = 0; l < caches.Length; l++) caches[l] = _attention[l].CreateCache(contextLength, maxBatchTokens, cacheType);
        return new SequenceState(this, caches, new ForwardBuffers(Dimensions, maxBatchTokens), contextLength);
    }

    protected override ForwardDimensions Dimensions => new(_hidden, _maxHeads * _headDim, _maxKv * _headDim, _maxHeads, _feedForward, Vocab: VocabSize);

    public override KvCacheFootprint KvFootprint(int contextLength, int maxBatchTokens, KvCacheType cacheType = KvCacheType.F32)
    {
        long perPosition = 2L * _attention.Length * _maxKv * LayerKvCache.HeadBytes(cacheType, _headDim);
        return new KvCacheFootprint(perPosition, 0, perPosition * contextLength);
    }

    protected override void ForwardLayers(ForwardBuffers b, StepRows rows, IActivationSink? sink)
    {
        int D = _hidden, T = rows.Count;
        Span<float> h = b.Hidden.AsSpan(0, T * D);
        Span<float> f = b.Normed.AsSpan(0, T * D);
        Span<float> y = b.FeedForwardOut.AsSpan(0, T * D);
        for (int l = 0; l < _attention.Length; l++)
        {
            _attention[l].Forward(Pool, b, rows, l, sink);
            for (int t = 0; t < T; t++) RmsNorm.Apply(h.Slice(t * D, D), _ffnNorm[l], f.Slice(t * D, D), _epsilon);
            _ffn[l].Forward(Pool, f, y, T, b.FeedForwardGate, b.FeedForwardUp);
            sink?.Record($"ffn_out-{l}", y, D, T);
            System.Numerics.Tensors.TensorPrimitives.Add(h, y, h);
        }
    }

    private static int Required(GgufMetadata md, string src, string key)
    {
        if (!md.TryGetInt64(key, out long v)) throw new InvalidDataException($"{src}: metadata key '{key}' is missing");
        if (v <= 0 || v > int.MaxValue) throw new InvalidDataException($"{src}: metadata key '{key}' = {v} is out of range");
        return (int)v;
    }
}
