using System.Numerics.Tensors;
using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models.Common;
using StepSharp.Tensors;

namespace StepSharp.Models.Step35;

/// <summary>
/// Step 3.5 Flash (GGUF arch <c>step35</c>): embeddings, the trunk of decoder layers with interleaved
/// sliding/full attention and dense/MoE FFNs, the final norm and the untied LM head (spec §2).
/// The MTP (NextN) layers stored after the trunk are loaded and shape-checked (<see cref="NextN"/>); the
/// trunk forward pass does not run them.
/// </summary>
public sealed class Step35Model : TransformerModel
{
    private Step35Model(GgufFile file, bool ownsFile, Step35Config config, KernelThreadPool pool) : base(file, ownsFile, pool)
    {
        Config = config;
        var w = new WeightLoader(file);
        int D = config.HiddenSize;
        TokenEmbedding = LoadEmbedding(w, file, D);
        config.VocabSize = checked((int)TokenEmbedding.Shape[1]);
        int V = config.VocabSize;
        OutputNorm = w.Vector("output_norm.weight", D);
        Output = w.OptionalMatrix("output.weight", D, V) ?? TokenEmbedding; // tied when absent
        float[]? ropeFactors = w.OptionalVector("rope_freqs.weight", file.TryGetTensor("rope_freqs.weight")?.Ne0 ?? 0);

        Layers = new Step35Layer[config.TrunkLayers];
        for (int l = 0; l < config.TrunkLayers; l++) Layers[l] = LoadLayer(w, config, l, ropeFactors);
        NextN = new Step35NextN[config.NextNLayers];
        for (int m = 0; m < config.NextNLayers; m++)
        {
            int l = config.TrunkLayers + m;
            NextN[m] = new Step35NextN(LoadLayer(w, config, l, ropeFactors), w, l, D, V);
        }
    }

    public Step35Config Config { get; }
    public override string Architecture => Step35Config.Architecture;
    public override int VocabSize => Config.VocabSize;
    public override int TrainedContextLength => Config.ContextLength;
    public override int HiddenSize => Config.HiddenSize;
    public override float RmsEpsilon => Config.RmsEpsilon;
    public Step35Layer[] Layers { get; }
    public Step35NextN[] NextN { get; }

    public static Step35Model Load(GgufFile file, KernelThreadPool pool, bool ownsFile = false)
    {
        var config = Step35Config.FromGguf(file.Metadata, file.Path);
        return new Step35Model(file, ownsFile, config, pool);
    }

    private static Step35Layer LoadLayer(WeightLoader w, Step35Config c, int l, float[]? ropeFactors)
    {
        int D = c.HiddenSize, dh = c.HeadDim, H = c.HeadCount[l], Hkv = c.KvHeadCount[l];
        string p = $"blk.{l}.";
        var attnWeights = AttentionWeights.Load(w, p, D, H, Hkv, dh, gated: true);
        float[]? factors = c.UseRopeFreqFactors[l] ? ropeFactors : null;
        var rope = new RotaryEmbedding(c.RotaryDims[l], c.RopeTheta[l], RopeStyle.Neox, factors);
        var attention = new AttentionLayer(l, attnWeights, H, Hkv, dh, c.IsSliding[l] ? c.SlidingWindow : 0, rope, c.RmsEpsilon);
        float[] ffnNorm = w.Vector(p + "ffn_norm.weight", D);

        bool isMoe = w.Has(p + "ffn_gate_inp.weight");
        if (isMoe != c.IsMoe[l] && l < c.TrunkLayers)
            throw new InvalidDataException($"{w.Source}: layer {l} is {(c.IsMoe[l] ? "MoE" : "dense")} by the metadata (leading_dense_block_count) but {(isMoe ? "has" : "lacks")} 'blk.{l}.ffn_gate_inp.weight'");
        if (!isMoe)
        {
            int ff = c.FeedForwardLength;
            var dense = new FeedForward(
                w.Matrix(p + "ffn_gate.weight", D, ff), w.Matrix(p + "ffn_up.weight", D, ff), w.Matrix(p + "ffn_down.weight", ff, D),
                D, ff, c.SwiGluLimitShared[l]); // dense MLPs use the shared-expert clamp (spec §2.4)
            return new Step35Layer(l, attention, ffnNorm, dense, null, c.RmsEpsilon);
        }
        int E = c.ExpertCount, ffe = c.ExpertFeedForwardLength, ffs = c.SharedExpertFeedForwardLength;
        var experts = new FeedForward(
            w.Matrix(p + "ffn_gate_exps.weight", D, ffe, E), w.Matrix(p + "ffn_up_exps.weight", D, ffe, E), w.Matrix(p + "ffn_down_exps.weight", ffe, D, E),
            D, ffe, c.SwiGluLimitExperts[l]);
        var shared = new FeedForward(
            w.Matrix(p + "ffn_gate_shexp.weight", D, ffs), w.Matrix(p + "ffn_up_shexp.weight", D, ffs), w.Matrix(p + "ffn_down_shexp.weight", ffs, D),
            D, ffs, c.SwiGluLimitShared[l]);
        TensorView router = w.Matrix(p + "ffn_gate_inp.weight", D, E);
        var moe = new Step35Moe(l, c, router, w.OptionalVector(p + "exp_probs_b.bias", E), experts, shared);
        return new Step35Layer(l, attention, ffnNorm, null, moe, c.RmsEpsilon);
    }

    protected override ForwardDimensions Dimensions
    {
        get
        {
            var c = Config;
            int maxH = 0, maxKv = 0;
            for (int l = 0; l < c.BlockCount; l++) { maxH = Math.Max(maxH, c.HeadCount[l]); maxKv = Math.Max(maxKv, c.KvHeadCount[l]); }
            int maxFf = Math.Max(c.FeedForwardLength, c.SharedExpertFeedForwardLength);
            return new ForwardDimensions(c.HiddenSize, maxH * c.HeadDim, maxKv * c.HeadDim, maxH, maxFf,
                c.ExpertCount, c.ExpertUsedCount, c.ExpertFeedForwardLength, c.VocabSize, NextN.Length > 0 ? 2 * c.HiddenSize : 0);
        }
    }

    public override IModelState CreateState(int contextLength, int maxBatchTokens = 64, KvCacheType cacheType = KvCacheType.F32)
    {
        if (contextLength <= 0) throw new ArgumentOutOfRangeException(nameof(contextLength), contextLength, "context length must be positive");
        if (maxBatchTokens <= 0) throw new ArgumentOutOfRangeException(nameof(maxBatchTokens), maxBatchTokens, "batch size must be positive");
        // Trunk layers first, then one cache per MTP head (index TrunkLayers + head).
        var caches = new LayerKvCache[Layers.Length + NextN.Length];
        for (int l = 0; l < Layers.Length; l++) caches[l] = Layers[l].Attention.CreateCache(contextLength, maxBatchTokens, cacheType);
        for (int m = 0; m < NextN.Length; m++) caches[Layers.Length + m] = NextN[m].Block.Attention.CreateCache(contextLength, maxBatchTokens, cacheType);
        return new SequenceState(this, caches, new ForwardBuffers(Dimensions, maxBatchTokens), contextLength);
    }

    public override KvCacheFootprint KvFootprint(int contextLength, int maxBatchTokens, KvCacheType cacheType = KvCacheType.F32) => Config.KvFootprint(contextLength, maxBatchTokens, cacheType);

    /// <summary>
    /// Runs MTP head <paramref name="head"/> (spec §3.2) over rows (token x_p, hidden h_{p−1}) at the given positions,
    /// writing each row's K/V to the head's own cache in <paramref name="state"/>. <paramref name="hiddenOut"/> receives
    /// the block outputs (pre-norm, the next draft step's hidden input) and <paramref name="logits"/> (rows × vocab,
    /// may be empty) the head's logits.
    /// </summary>
    public void ForwardNextN(int head, IModelState state, ReadOnlySpan<int> tokens, ReadOnlySpan<float> hiddenIn, ReadOnlySpan<int> positions,
        Span<float> hiddenOut, Span<float> logits)
    {
        if ((uint)head >= (uint)NextN.Length) throw new ArgumentOutOfRangeException(nameof(head), head, $"the model has {NextN.Length} MTP heads");
        if (state is not SequenceState s || !ReferenceEquals(s.Owner, this)) throw new ArgumentException("the state was not created by this model", nameof(state));
        int T = tokens.Length, D = HiddenSize;
        if (T > s.Buffers.MaxTokens) throw new ArgumentException($"{T} MTP rows exceed the state's step size {s.Buffers.MaxTokens}");
        if (hiddenIn.Length < T * D || positions.Length < T || hiddenOut.Length < T * D) throw new ArgumentException("hidden/position buffers are shorter than the rows");
        if (!logits.IsEmpty && logits.Length < T * VocabSize) throw new ArgumentException($"logits buffer holds {logits.Length} values; {T}×{VocabSize} needed");
        StepRows rows = s.Rows; // the sequence's own step rows: MTP passes run between trunk steps, never during one
        rows.Clear();
        for (int t = 0; t < T; t++) rows.AddAt(s, tokens[t], positions[t]);
        NextN[head].Forward(Pool, s.Buffers, rows, Layers.Length + head, hiddenIn, TokenEmbedding, Config.RmsEpsilon, s.Activations);
        s.Buffers.Hidden.AsSpan(0, T * D).CopyTo(hiddenOut);
        if (!logits.IsEmpty) NextN[head].Logits(Pool, s.Buffers, T, OutputNorm, Output, Config.RmsEpsilon, logits[..(T * VocabSize)]);
    }

    protected override void ForwardLayers(ForwardBuffers buffers, StepRows rows, IActivationSink? sink)
    {
        for (int l = 0; l < Layers.Length; l++) Layers[l].Forward(Pool, buffers, rows, l, sink);
    }
}
