namespace StepSharp.Models.Step35;

/// <summary>
/// The dimensions of a Step 3.5 model, enough to generate a random-weight GGUF of that architecture
/// (spec §1). Layer i uses full attention iff i % 4 == 0; layers below <see cref="DenseLayers"/> are dense.
/// </summary>
public sealed record Step35ModelShape
{
    public required string Name { get; init; }
    public required int Hidden { get; init; }
    public required int Layers { get; init; }            // trunk layers
    public int NextNLayers { get; init; }                // MTP blocks stored after the trunk
    public required int HeadDim { get; init; }
    public required int HeadsFull { get; init; }
    public required int HeadsSliding { get; init; }
    public required int KvHeads { get; init; }
    public required int Window { get; init; }
    public required int DenseLayers { get; init; }
    public required int DenseFeedForward { get; init; }
    public required int Experts { get; init; }
    public required int ExpertsUsed { get; init; }
    public required int ExpertFeedForward { get; init; }
    public required int SharedFeedForward { get; init; }
    public required int Vocab { get; init; }
    public int ContextLength { get; init; } = 4096;
    public float RopeBase { get; init; } = 5_000_000f;
    public float RopeBaseSliding { get; init; } = 10_000f;
    public float ExpertWeightsScale { get; init; } = 3f;
    /// <summary>Routed-expert SwiGLU clamp per layer (0 = none); missing entries are 0.</summary>
    public float[] SwiGluLimitExperts { get; init; } = [];
    public float[] SwiGluLimitShared { get; init; } = [];

    public int BlockCount => Layers + NextNLayers;
    public bool IsSliding(int layer) => layer % 4 != 0;
    public int Heads(int layer) => IsSliding(layer) ? HeadsSliding : HeadsFull;

    /// <summary>The built-in demo model: small enough to generate at start-up in a fraction of a second.</summary>
    public static Step35ModelShape Demo { get; } = new()
    {
        Name = "stepsharp-demo", Hidden = 256, Layers = 8, NextNLayers = 1, HeadDim = 64, HeadsFull = 4, HeadsSliding = 6, KvHeads = 2,
        Window = 64, DenseLayers = 1, DenseFeedForward = 512, Experts = 16, ExpertsUsed = 4, ExpertFeedForward = 128,
        SharedFeedForward = 128, Vocab = 262, SwiGluLimitExperts = [0, 0, 0, 0, 0, 0, 0, 7f], SwiGluLimitShared = [0, 0, 0, 0, 0, 0, 0, 16f],
    };

    /// <summary>The shape of the shared step35-tiny test model (testdata/step35-tiny/config.json).</summary>
    public static Step35ModelShape Tiny { get; } = new()
    {
        Name = "step35-tiny", Hidden = 128, Layers = 8, NextNLayers = 1, HeadDim = 32, HeadsFull = 4, HeadsSliding = 6, KvHeads = 2,
        Window = 8, DenseLayers = 1, DenseFeedForward = 256, Experts = 16, ExpertsUsed = 4, ExpertFeedForward = 32,
        SharedFeedForward = 32, Vocab = 512, SwiGluLimitExperts = [0, 0, 0, 0, 0, 1.5f, 0, 2f], SwiGluLimitShared = [0, 0, 0, 0, 0, 0, 1.5f, 3f],
    };

    /// <summary>The "mini" benchmark shape of the performance issue: 125.7 M active parameters per token.</summary>
    public static Step35ModelShape Mini { get; } = new()
    {
        Name = "step35-mini", Hidden = 1024, Layers = 8, HeadDim = 128, HeadsFull = 16, HeadsSliding = 24, KvHeads = 2,
        Window = 128, DenseLayers = 1, DenseFeedForward = 2816, Experts = 32, ExpertsUsed = 8, ExpertFeedForward = 256,
        SharedFeedForward = 256, Vocab = 16384,
    };

    /// <summary>Step 3.5 Flash's real dimensions (spec §1.1) with the trunk cut to <paramref name="layers"/> layers.</summary>
    public static Step35ModelShape Full(int layers = 45, int nextn = 3) => new()
    {
        Name = $"step35-flash-{layers}L", Hidden = 4096, Layers = layers, NextNLayers = nextn, HeadDim = 128, HeadsFull = 64, HeadsSliding = 96,
        KvHeads = 8, Window = 512, DenseLayers = 3, DenseFeedForward = 11264, Experts = 288, ExpertsUsed = 8, ExpertFeedForward = 1280,
        SharedFeedForward = 1280, Vocab = 128896, ContextLength = 262144,
        SwiGluLimitExperts = Enumerable.Range(0, layers + nextn).Select(l => l is 43 or 44 ? 7f : 0f).ToArray(),
        SwiGluLimitShared = Enumerable.Range(0, layers + nextn).Select(l => l is 43 or 44 ? 16f : 0f).ToArray(),
    };

    public static Step35ModelShape Preset(string name) => name switch
    {
        "demo" => Demo,
        "tiny" => Tiny,
        "mini" => Mini,
        "full" => Full(),
        _ when name.StartsWith("full-", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), out int n) && n > 0 => Full(n, 0),
        _ => throw new ArgumentException($"unknown model preset '{name}' (demo, tiny, mini, full, full-N for N trunk layers)"),
    };

    /// <summary>All parameters, MTP blocks included.</summary>
    public long TotalParameters
    {
        get
        {
            long total = 2L * Vocab * Hidden;
            for (int l = 0; l < BlockCount; l++)
            {
                int h = Heads(l);
                total += (long)Hidden * h * HeadDim * 2 + 2L * Hidden * KvHeads * HeadDim + (long)Hidden * h;
                total += l < DenseLayers
                    ? 3L * Hidden * DenseFeedForward
                    : 3L * Hidden * ((long)ExpertFeedForward * Experts + SharedFeedForward) + (long)Hidden * Experts;
                if (l >= Layers) total += 2L * Hidden * Hidden + (long)Vocab * Hidden;
            }
            return total;
        }
    }

    /// <summary>Parameters touched per token: attention, dense FFNs, the k routed experts, shared experts, LM head (not the embedding lookup).</summary>
    public long ActiveParameters
    {
        get
        {
            long total = (long)Vocab * Hidden; // LM head
            for (int l = 0; l < Layers; l++)
            {
                int h = Heads(l);
                total += (long)Hidden * h * HeadDim * 2 + 2L * Hidden * KvHeads * HeadDim + (long)Hidden * h; // q, o, k, v, gate
                total += l < DenseLayers
                    ? 3L * Hidden * DenseFeedForward
                    : 3L * Hidden * (ExpertFeedForward * ExpertsUsed + SharedFeedForward) + (long)Hidden * Experts;
            }
            return total;
        }
    }
}
