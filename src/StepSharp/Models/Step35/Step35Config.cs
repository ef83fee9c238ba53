using StepSharp.Formats;

namespace StepSharp.Models.Step35;

/// <summary>
/// The Step 3.5 Flash hyper-parameters, read from GGUF metadata (arch <c>step35</c>, spec §1 and §4.2) with
/// every per-layer setting resolved to an array indexed by absolute layer index (trunk layers then MTP layers).
/// Both the upstream key spellings and the older StepFun-fork ones are accepted (spec §4.2).
/// </summary>
public sealed class Step35Config
{
    public required int HiddenSize { get; init; }             // D (4096)
    public required int BlockCount { get; init; }             // trunk + MTP layers (45 + 3)
    public required int NextNLayers { get; init; }            // MTP layers stored after the trunk (3)
    public int TrunkLayers => BlockCount - NextNLayers;      // 45
    public int VocabSize { get; internal set; }             // rows of token_embd (128896)
    public required int ContextLength { get; init; }
    public required int HeadDim { get; init; }                // 128 (key_length = value_length)
    public required int[] HeadCount { get; init; }            // per layer: 64 full / 96 sliding
    public required int[] KvHeadCount { get; init; }          // per layer: 8
    public required bool[] IsSliding { get; init; }           // per layer: true = sliding-window attention
    public required int SlidingWindow { get; init; }          // 512 keys including the current token
    public required int[] RotaryDims { get; init; }           // per layer: 64 full / 128 sliding
    public required double[] RopeTheta { get; init; }         // per layer: 5e6 full / 1e4 sliding
    public required bool[] UseRopeFreqFactors { get; init; }  // per layer: rope_freqs applies (full layers only by default)
    public required float RmsEpsilon { get; init; }
    public required int FeedForwardLength { get; init; }      // dense FFN (11264)
    public required bool[] IsMoe { get; init; }               // per layer
    public required int ExpertCount { get; init; }            // 288
    public required int ExpertUsedCount { get; init; }        // 8
    public required int ExpertFeedForwardLength { get; init; }// 1280
    public required int SharedExpertFeedForwardLength { get; init; } // 1280
    public required float ExpertWeightsScale { get; init; }   // 3.0
    public required bool ExpertWeightsNorm { get; init; }     // true
    public required ExpertGating GatingFunction { get; init; }
    public required float[] SwiGluLimitExperts { get; init; } // per layer, 0 = no clamp
    public required float[] SwiGluLimitShared { get; init; }  // per layer, shared expert and dense FFN

    public const string Architecture = "step35";

    /// <summary>Reads the configuration; errors name the file and the key.</summary>
    public static Step35Config FromGguf(GgufMetadata md, string source)
    {
        string arch = md.GetString("general.architecture") ?? throw Err(source, "general.architecture", "is missing");
        if (arch != Architecture) throw Err(source, "general.architecture", $"is '{arch}', expected '{Architecture}'");
        string p = Architecture + ".";

        int blocks = ReqInt(md, source, p + "block_count");
        int nextn = (int)md.GetInt64(p + "nextn_predict_layers", 0);
        if (nextn < 0 || nextn >= blocks) throw Err(source, p + "nextn_predict_layers", $"= {nextn} does not fit block_count {blocks}");
        int hidden = ReqInt(md, source, p + "embedding_length");
        int headDim = (int)md.GetInt64(p + "attention.key_length", 0);
        int[] heads = PerLayerInt(md, source, p + "attention.head_count", blocks, required: true);
        if (headDim == 0) headDim = hidden / heads[0];
        int valueLen = (int)md.GetInt64(p + "attention.value_length", headDim);
        if (valueLen != headDim) throw Err(source, p + "attention.value_length", $"= {valueLen} differs from key_length {headDim}; unsupported");
        int[] kvHeads = PerLayerInt(md, source, p + "attention.head_count_kv", blocks, required: false, fallback: heads);

        bool[] sliding = new bool[blocks];
        bool[]? pattern = md.GetBoolArray(p + "attention.sliding_window_pattern");
        for (int l = 0; l < blocks; l++)
            sliding[l] = pattern is not null && l < pattern.Length ? pattern[l] : l % 4 != 0; // spec §1.1: layer i full iff i % 4 == 0
        int window = (int)md.GetInt64(p + "attention.sliding_window", 512);

        // RoPE: upstream keys give one base per layer type and halve the rotary dims on full layers;
        // the older fork stored explicit per-layer arrays (spec §4.2).
        int ropeDims = (int)md.GetInt64(p + "rope.dimension_count", headDim);
        double baseFull = md.GetFloat32(p + "rope.freq_base", 5_000_000f);
        double baseSwa = md.GetFloat32(p + "rope.freq_base_swa", 10_000f);
        float[]? basePerLayer = md.GetFloat32Array(p + "rope.freq_base_per_layer");
        long[]? dimsPerLayer = md.GetInt64Array(p + "rope.dimension_count_per_layer");
        long applyMask = md.GetInt64(p + "rope.scaling.apply_mask", 1); // bit0: full layers, bit1: sliding layers
        int[] rotary = new int[blocks];
        double[] theta = new double[blocks];
        bool[] useFactors = new bool[blocks];
        for (int l = 0; l < blocks; l++)
        {
            rotary[l] = dimsPerLayer is not null && l < dimsPerLayer.Length ? (int)dimsPerLayer[l] : sliding[l] ? ropeDims : ropeDims / 2;
            theta[l] = basePerLayer is not null && l < basePerLayer.Length ? basePerLayer[l] : sliding[l] ? baseSwa : baseFull;
            useFactors[l] = sliding[l] ? (applyMask & 2) != 0 : (applyMask & 1) != 0;
            if (rotary[l] <= 0 || rotary[l] > headDim || rotary[l] % 2 != 0)
                throw Err(source, p + "rope.dimension_count", $"gives {rotary[l]} rotary dims on layer {l} for head_dim {headDim}");
        }

        int expertCount = (int)md.GetInt64(p + "expert_count", 0);
        int leadingDense = (int)md.GetInt64(p + "leading_dense_block_count", expertCount > 0 ? 0 : blocks);
        bool[] moe = new bool[blocks];
        for (int l = 0; l < blocks; l++) moe[l] = expertCount > 0 && l >= leadingDense;

        long gating = md.GetInt64(p + "expert_gating_func", 2);
        var config = new Step35Config
        {
            HiddenSize = hidden,
            BlockCount = blocks,
            NextNLayers = nextn,
            ContextLength = (int)md.GetInt64(p + "context_length", 4096),
            HeadDim = headDim,
            HeadCount = heads,
            KvHeadCount = kvHeads,
            IsSliding = sliding,
            SlidingWindow = window,
            RotaryDims = rotary,
            RopeTheta = theta,
            UseRopeFreqFactors = useFactors,
            RmsEpsilon = md.GetFloat32(p + "attention.layer_norm_rms_epsilon", 1e-5f),
            FeedForwardLength = (int)md.GetInt64(p + "feed_forward_length", 0),
            IsMoe = moe,
            ExpertCount = expertCount,
            ExpertUsedCount = (int)md.GetInt64(p + "expert_used_count", 0),
            ExpertFeedForwardLength = (int)md.GetInt64(p + "expert_feed_forward_length", 0),
            SharedExpertFeedForwardLength = (int)md.GetInt64(p + "expert_shared_feed_forward_length", 0),
            ExpertWeightsScale = md.GetFloat32(p + "expert_weights_scale", 1f),
            ExpertWeightsNorm = md.GetBool(p + "expert_weights_norm", true),
            GatingFunction = gating switch
            {
                1 => ExpertGating.Softmax,
                2 => ExpertGating.Sigmoid,
                _ => throw Err(source, p + "expert_gating_func", $"= {gating} is not 1 (softmax) or 2 (sigmoid)"),
            },
            SwiGluLimitExperts = PerLayerFloat(md, p + "swiglu_clamp_exp", p + "swiglu_limits", blocks),
            SwiGluLimitShared = PerLayerFloat(md, p + "swiglu_clamp_shexp", p + "swiglu_limits_shared", blocks),
        };
        config.Validate(source);
        return config;
    }

    /// <summary>The configuration a GGUF of this shape would carry (for arithmetic without a file, e.g. the full model).</summary>
    public static Step35Config FromShape(Step35ModelShape shape)
    {
        int blocks = shape.BlockCount;
        var layers = Enumerable.Range(0, blocks).ToArray();
        float[] PerLayer(float[] v) => layers.Select(l => l < v.Length ? v[l] : 0f).ToArray();
        return new Step35Config
        {
            HiddenSize = shape.Hidden,
            BlockCount = blocks,
            NextNLayers = shape.NextNLayers,
            VocabSize = shape.Vocab,
            ContextLength = shape.ContextLength,
            HeadDim = shape.HeadDim,
            HeadCount = layers.Select(shape.Heads).ToArray(),
            KvHeadCount = layers.Select(_ => shape.KvHeads).ToArray(),
            IsSliding = layers.Select(shape.IsSliding).ToArray(),
            SlidingWindow = shape.Window,
            RotaryDims = layers.Select(l => shape.IsSliding(l) ? shape.HeadDim : shape.HeadDim / 2).ToArray(),
            RopeTheta = layers.Select(l => (double)(shape.IsSliding(l) ? shape.RopeBaseSliding : shape.RopeBase)).ToArray(),
            UseRopeFreqFactors = layers.Select(l => !shape.IsSliding(l)).ToArray(),
            RmsEpsilon = 1e-5f,
            FeedForwardLength = shape.DenseFeedForward,
            IsMoe = layers.Select(l => l >= shape.DenseLayers).ToArray(),
            ExpertCount = shape.Experts,
            ExpertUsedCount = shape.ExpertsUsed,
            ExpertFeedForwardLength = shape.ExpertFeedForward,
            SharedExpertFeedForwardLength = shape.SharedFeedForward,
            ExpertWeightsScale = shape.ExpertWeightsScale,
            ExpertWeightsNorm = true,
            GatingFunction = ExpertGating.Sigmoid,
            SwiGluLimitExperts = PerLayer(shape.SwiGluLimitExperts),
            SwiGluLimitShared = PerLayer(shape.SwiGluLimitShared),
        };
    }

    /// <summary>
    /// KV-cache cost of the trunk (spec §2.6): full layers grow by one row per position; sliding layers keep a ring of
    /// window + maxBatch − 1 rows whatever the context.
    /// </summary>
    public KvCacheFootprint KvFootprint(int contextLength, int maxBatchTokens, Common.KvCacheType cacheType = Common.KvCacheType.F32)
    {
        long perPosition = 0, sliding = 0;
        for (int l = 0; l < TrunkLayers; l++)
        {
            long row = 2L * KvHeadCount[l] * Common.LayerKvCache.HeadBytes(cacheType, HeadDim);
            if (IsSliding[l]) sliding += row * Math.Min(contextLength, SlidingWindow + maxBatchTokens - 1);
            else perPosition += row;
        }
        return new KvCacheFootprint(perPosition, sliding, perPosition * contextLength + sliding);
    }

    private void Validate(string source)
    {
        for (int l = 0; l < BlockCount; l++)
        {
            if (HeadCount[l] <= 0 || KvHeadCount[l] <= 0 || HeadCount[l] % KvHeadCount[l] != 0)
                throw new InvalidDataException($"{source}: layer {l} has {HeadCount[l]} query heads and {KvHeadCount[l]} KV heads; query heads must be a positive multiple of KV heads");
        }
        if (SlidingWindow <= 0) throw new InvalidDataException($"{source}: sliding window {SlidingWindow} must be positive");
        if (ExpertCount > 0 && (ExpertUsedCount <= 0 || ExpertUsedCount > ExpertCount))
            throw new InvalidDataException($"{source}: expert_used_count {ExpertUsedCount} must be in 1..expert_count {ExpertCount}");
    }

    private static int ReqInt(GgufMetadata md, string source, string key)
    {
        if (!md.TryGetInt64(key, out long v)) throw Err(source, key, "is missing");
        if (v <= 0 || v > int.MaxValue) throw Err(source, key, $"= {v} is out of range");
        return (int)v;
    }

    /// <summary>A per-layer integer that GGUF stores either as one scalar or as an array.</summary>
    private static int[] PerLayerInt(GgufMetadata md, string source, string key, int layers, bool required, int[]? fallback = null)
    {
        var result = new int[layers];
        long[]? arr = md.ContainsKey(key) && md[key].Type == GgufValueType.Array ? md.GetInt64Array(key) : null;
        if (arr is not null)
        {
            if (arr.Length < layers) throw Err(source, key, $"has {arr.Length} entries for {layers} layers");
            for (int l = 0; l < layers; l++) result[l] = checked((int)arr[l]);
            return result;
        }
        if (md.TryGetInt64(key, out long scalar))
        {
            Array.Fill(result, checked((int)scalar));
            return result;
        }
        if (required || fallback is null) throw Err(source, key, "is missing");
        return (int[])fallback.Clone();
    }

    /// <summary>Per-layer clamp limits; absent or short arrays pad with 0 (no clamp), spec §1.1.</summary>
    private static float[] PerLayerFloat(GgufMetadata md, string key, string legacyKey, int layers)
    {
        float[]? arr = md.GetFloat32Array(key) ?? md.GetFloat32Array(legacyKey);
        var result = new float[layers];
        if (arr is not null) arr.AsSpan(0, Math.Min(arr.Length, layers)).CopyTo(result);
        return result;
    }

    private static InvalidDataException Err(string source, string key, string what) => new($"{source}: metadata key '{key}' {what}");
}

public enum ExpertGating
{
    Softmax = 1,
    Sigmoid = 2,
}
