using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models;
using StepSharp.Models.Step35;
using StepSharp.Tensors;

namespace StepSharp.Tests.Kernels;

/// <summary>
/// Weights are rewritten into the kernels' layouts at load: in place in memory read from the file (<c>--no-mmap</c>),
/// copied out of a mapped file. Either way the model computes the logits of the file's layout up to the order of additions.
/// </summary>
public unsafe class KernelWeightLayoutsTests
{
    /// <summary>
    /// The demo shape with 256-value expert rows, quantized as Q4_K_M: its 256-value rows are Q4_K (and Q6_K), so all
    /// three routed-expert tensors are rewritten (and placed expert by expert); the 128-value ones fall back.
    /// </summary>
    private static readonly Lazy<byte[]> Q4_K_M = new(() =>
    {
        using var f32 = GgufFile.FromBytes(Step35RandomModel.Build(Step35ModelShape.Demo with { ExpertFeedForward = 256 }, 21).ToArray(), "demo-f32");
        return GgufQuantizer.Quantize(f32, "Q4_K_M").ToArray();
    });

    [Fact]
    public void APrivateCopyIsRewrittenInPlaceAndAMappedFilesQ4_KTensorsAreCopiedOut()
    {
        string path = WriteTemp(Q4_K_M.Value);
        try
        {
            using var untouched = GgufFile.Open(path);
            using var mapped = GgufFile.Open(path);
            using var read = GgufFile.Load(path);
            Assert.False(mapped.HoldsPrivateCopy);
            Assert.True(read.HoldsPrivateCopy);
            var e = Assert.Throws<InvalidOperationException>(() => mapped.ConvertTensorInPlace("blk.0.attn_q.weight", GgmlType.Q4_KInterleaved, _ => { }));
            Assert.Contains(path, e.Message);

            int q4k = read.Tensors.Count(t => t.Type == GgmlType.Q4_K), q6k = read.Tensors.Count(t => t.Type == GgmlType.Q6_K);
            Assert.True(q4k > 10 && q6k > 0, $"the test model has only {q4k} Q4_K and {q6k} Q6_K tensors");
            bool rewrites = KernelIsa.Current != Isa.Scalar && KernelWeightLayouts.Enabled;
            GgufTensorInfo norm = mapped.GetTensorInfo("blk.0.attn_norm.weight");
            byte* mappedStart = mapped.GetTensor(norm.Name).Data - mapped.DataOffset - norm.Offset;
            foreach (GgufFile file in new[] { read, mapped })
            {
                int layouts = file.Tensors.Count(t => KernelWeightLayouts.LayoutFor(t.Type, t.Shape[0], t.Shape.Length > 1 ? t.Shape[1] : 1) != t.Type);
                // Every Q4_K and Q6_K matrix of whole groups of four rows (the head gates of a few rows keep their type).
                Assert.True(layouts >= file.Tensors.Count(t => t.Type is GgmlType.Q4_K or GgmlType.Q6_K && t.Shape.Length > 1 && t.Shape[1] % 4 == 0) && layouts > 10);
                Assert.Equal(rewrites ? layouts : 0, KernelWeightLayouts.Apply(file));
                Assert.Equal(0, KernelWeightLayouts.Apply(file));   // already rewritten
                foreach (GgufTensorInfo t in file.Tensors)
                {
                    TensorView now = file.GetTensor(t.Name);
                    bool rewritten = KernelWeightLayouts.LayoutFor(t.Type, t.Shape[0], t.Shape.Length > 1 ? t.Shape[1] : 1) != t.Type && rewrites;
                    Assert.Equal(rewritten ? KernelWeightLayouts.LayoutFor(t.Type, t.Shape[0], t.Shape.Length > 1 ? t.Shape[1] : 1) : t.Type, now.Type);
                    Assert.Equal(untouched.GetTensor(t.Name).ToFloatArray(), now.ToFloatArray());
                    // The mapped file's rewritten tensors live in a copy, its others in the mapping.
                    if (file == mapped) Assert.Equal(!rewritten, now.Data == mappedStart + mapped.DataOffset + t.Offset);
                }
                // A layer's rewritten routed experts lie expert by expert: gate, up and down of expert e together.
                int triples = 0;
                foreach (GgufTensorInfo t in file.Tensors)
                {
                    if (!t.Name.EndsWith(".ffn_gate_exps.weight", StringComparison.Ordinal)) continue;
                    string prefix = t.Name[..^"ffn_gate_exps.weight".Length];
                    TensorView gate = file.GetTensor(t.Name), up = file.GetTensor(prefix + "ffn_up_exps.weight"), down = file.GetTensor(prefix + "ffn_down_exps.weight");
                    if (!GgmlTypeInfo.IsInMemoryLayout(gate.Type) || !GgmlTypeInfo.IsInMemoryLayout(up.Type) || !GgmlTypeInfo.IsInMemoryLayout(down.Type)) continue;
                    triples++;
                    long g = gate.MatrixRows * gate.RowByteLength, u = up.MatrixRows * up.RowByteLength, d = down.MatrixRows * down.RowByteLength;
                    Assert.True(up.Data == gate.Data + g && down.Data == up.Data + u, $"{prefix}: experts' matrices not together");
                    foreach (TensorView v in new[] { gate, up, down })
                    {
                        Assert.Equal(g + u + d, v.MatrixStride);
                        Assert.False(v.IsContiguous);
                        Assert.True(v.RowPointer(v.MatrixRows) == v.Data + g + u + d);   // expert 1's first row
                    }
                }
                Assert.True(!rewrites || triples > 0, "the test model's experts were not placed expert by expert");
            }
            Assert.Equal(GgmlType.Q4_K, untouched.GetTensor("blk.0.attn_q.weight").Type);
            // A layout whose rows take other sizes is refused by name.
            var size = Assert.Throws<ArgumentException>(() => read.ConvertTensorInPlace("blk.0.attn_q.weight", GgmlType.Q8_0, _ => { }));
            Assert.Contains("blk.0.attn_q.weight", size.Message);
            size = Assert.Throws<ArgumentException>(() => mapped.RelocateTensor("blk.0.attn_q.weight", GgmlType.Q8_0, untouched.GetTensor("blk.0.attn_q.weight").Data, null));
            Assert.Contains("blk.0.attn_q.weight", size.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static readonly Lazy<byte[]> Q8_0 = new(() =>
    {
        using var f32 = GgufFile.FromBytes(Step35RandomModel.Build(Step35ModelShape.Demo with { ExpertFeedForward = 256 }, 21).ToArray(), "demo-f32");
        return GgufQuantizer.Quantize(f32, "Q8_0").ToArray();
    });

    [Theory]
    [InlineData(GgmlType.Q4_K, 144, 0, 2)]       // d of a super-block, dmin of another
    [InlineData(GgmlType.Q8_0, 34, 0, 0)]        // d
    public void ATensorWithAnInfiniteOrNaNScaleKeepsTheFileLayout(GgmlType type, int blockBytes, int infAt, int nanAt)
    {
        // The Q4_K and Q8_0 layouts' kernels have no inf/NaN case in their fp16 conversion of the scales, so a
        // tensor holding one stays in the file type, whose kernels carry it into the results; the others are rewritten.
        if (KernelIsa.Current == Isa.Scalar || !KernelWeightLayouts.Enabled) return;
        byte[] source = type == GgmlType.Q4_K ? Q4_K_M.Value : Q8_0.Value;
        byte[] bytes = (byte[])source.Clone();
        string infinite, nan, other;
        GgmlType layout;
        using (var original = GgufFile.FromBytes(source, "model"))
        {
            string[] rewritten = original.Tensors.Where(t => t.Type == type
                && KernelWeightLayouts.LayoutFor(t.Type, t.Shape[0], t.Shape.Length > 1 ? t.Shape[1] : 1) != type).Select(t => t.Name).ToArray();
            Assert.True(rewritten.Length >= 3, $"only {rewritten.Length} {type} tensors to rewrite");
            (infinite, nan, other) = (rewritten[0], rewritten[1], rewritten[2]);
            layout = KernelWeightLayouts.LayoutFor(type, original.GetTensorInfo(other).Shape[0], original.GetTensorInfo(other).Shape[1]);
            long at = original.DataOffset + original.GetTensorInfo(infinite).Offset + 5 * blockBytes + infAt;   // block 5
            bytes[at] = 0x00; bytes[at + 1] = 0x7c;                                                      // +inf
            at = original.DataOffset + original.GetTensorInfo(nan).Offset + blockBytes + nanAt;                // block 1
            bytes[at] = 0x01; bytes[at + 1] = 0xfe;                                                      // NaN
        }
        string path = WriteTemp(bytes);
        try
        {
            foreach (GgufFile file in new[] { GgufFile.Load(path), GgufFile.Open(path) })
                using (file)
                {
                    Assert.True(KernelWeightLayouts.Apply(file) > 10);
                    Assert.Equal(type, file.GetTensor(infinite).Type);
                    Assert.Equal(type, file.GetTensor(nan).Type);
                    Assert.Equal(layout, file.GetTensor(other).Type);
                    Assert.NotEqual(type, layout);
                }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(ActivationMode.Int8ForDecode)]
    [InlineData(ActivationMode.Float)]
    public void ModelsOverRewrittenWeightsGiveTheLogitsOfTheFileLayout(ActivationMode mode)
    {
        string path = WriteTemp(Q4_K_M.Value);
        try
        {
            using var activations = ActivationQuantization.Set(mode);
            using var pool = new KernelThreadPool(2);
            // Step35Model.Load builds over the file as it is; ModelLoader.Load rewrites first (mapped: copied out; read: in place).
            float[] reference = Logits(GgufFile.Open(path), pool, file => Step35Model.Load(file, pool, ownsFile: true), out GgmlType fileType);
            Assert.Equal(GgmlType.Q4_K, fileType);
            foreach (bool map in new[] { true, false })
            {
                float[] logits = Logits(map ? GgufFile.Open(path) : GgufFile.Load(path), pool, file => ModelLoader.Load(file, pool, ownsFile: true), out GgmlType type);
                Assert.Equal(KernelIsa.Current == Isa.Scalar || !KernelWeightLayouts.Enabled ? GgmlType.Q4_K : GgmlType.Q4_KInterleaved, type);
                // Only the order of float additions differs (the integer sums are exact), so the logits agree to 1e-4 at
                // every position. With int8 activations a decode step's rounding of an activation can flip between
                // the two orders, which moves that step's logits by up to ~0.1 (seen: 0.085 and 0.066 at 2 of the
                // 8 decode steps, the 30 other positions within 1e-4); an error in a layout would move every position.
                int V = logits.Length / (Prompt.Length + DecodeSteps), flipped = 0;
                float worst = 0;
                for (int p = 0; p < Prompt.Length + DecodeSteps; p++)
                {
                    float position = 0;
                    for (int i = p * V; i < (p + 1) * V; i++) position = Math.Max(position, Math.Abs(reference[i] - logits[i]));
                    worst = Math.Max(worst, position);
                    if (position > 1e-4f) flipped++;
                }
                if (mode == ActivationMode.Float) Assert.True(worst <= 1e-4f, $"mapped {map}: max |Δlogit| {worst}");
                else Assert.True(worst <= 0.15f && flipped <= DecodeSteps / 2, $"mapped {map}: max |Δlogit| {worst}, {flipped} positions off by more than 1e-4");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A 24-token prompt in one batch (prefill tiles, MoE experts with few tokens each), then 8 decode steps.</summary>
    private static readonly int[] Prompt = Enumerable.Range(0, 24).Select(i => 40 + 7 * i % 80).ToArray();
    private const int DecodeSteps = 8;

    private static float[] Logits(GgufFile file, KernelThreadPool pool, Func<GgufFile, ICausalLanguageModel> load, out GgmlType attentionType)
    {
        using var model = load(file);
        attentionType = file.GetTensor("blk.0.attn_q.weight").Type;
        int V = model.VocabSize;
        var logits = new float[(Prompt.Length + DecodeSteps) * V];
        using var state = model.CreateState(contextLength: 64, maxBatchTokens: Prompt.Length);
        model.Forward(state, Prompt, logits.AsSpan(0, Prompt.Length * V), allPositions: true);
        for (int t = 0; t < DecodeSteps; t++)
            model.Forward(state, [50 + t], logits.AsSpan((Prompt.Length + t) * V, V));
        return logits;
    }

    private static string WriteTemp(byte[] bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"stepsharp-layout-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
