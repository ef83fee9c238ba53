using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models;
using StepSharp.Models.Step35;
using StepSharp.Tensors;

namespace StepSharp.Tests.Kernels;

/// <summary>
/// Weights read into memory (<c>--no-mmap</c>) are rewritten into the kernels' layouts at load; a mapped file is not.
/// Either way the model computes the same logits up to the order of additions.
/// </summary>
public class KernelWeightLayoutsTests
{
    /// <summary>The demo shape quantized as Q4_K_M: its 256-value rows are Q4_K (and Q6_K), the 128-value ones fall back.</summary>
    private static readonly Lazy<byte[]> Q4_K_M = new(() =>
    {
        using var f32 = GgufFile.FromBytes(Step35RandomModel.Build(Step35ModelShape.Demo, 21).ToArray(), "demo-f32");
        return GgufQuantizer.Quantize(f32, "Q4_K_M").ToArray();
    });

    [Fact]
    public void OnlyAPrivateCopyIsRewrittenAndItsViewsSayIntoWhat()
    {
        string path = WriteTemp(Q4_K_M.Value);
        try
        {
            using var mapped = GgufFile.Open(path);
            using var read = GgufFile.Load(path);
            Assert.False(mapped.HoldsPrivateCopy);
            Assert.True(read.HoldsPrivateCopy);
            Assert.Equal(0, KernelWeightLayouts.Apply(mapped));
            var e = Assert.Throws<InvalidOperationException>(() => mapped.ConvertTensorInPlace("blk.0.attn_q.weight", GgmlType.Q4_KInterleaved, _ => { }));
            Assert.Contains(path, e.Message);

            int q4k = read.Tensors.Count(t => t.Type == GgmlType.Q4_K);
            Assert.True(q4k > 10, $"the test model has only {q4k} Q4_K tensors");
            Assert.Equal(KernelIsa.Current == Isa.Scalar ? 0 : q4k, KernelWeightLayouts.Apply(read));
            Assert.Equal(0, KernelWeightLayouts.Apply(read));   // already rewritten
            foreach (GgufTensorInfo t in read.Tensors.Where(t => t.Type == GgmlType.Q4_K))
            {
                TensorView now = read.GetTensor(t.Name);
                Assert.Equal(KernelIsa.Current == Isa.Scalar ? GgmlType.Q4_K : GgmlType.Q4_KInterleaved, now.Type);
                Assert.Equal(mapped.GetTensor(t.Name).ToFloatArray(), now.ToFloatArray());
            }
            // A layout whose rows take other sizes is refused by name.
            var size = Assert.Throws<ArgumentException>(() => read.ConvertTensorInPlace("blk.0.attn_q.weight", GgmlType.Q8_0, _ => { }));
            Assert.Contains("blk.0.attn_q.weight", size.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(ActivationMode.Int8ForDecode)]
    [InlineData(ActivationMode.Float)]
    public void AModelReadIntoMemoryGivesTheLogitsOfTheMappedFile(ActivationMode mode)
    {
        string path = WriteTemp(Q4_K_M.Value);
        try
        {
            using var activations = ActivationQuantization.Set(mode);
            using var pool = new KernelThreadPool(2);
            float[] mapped = Logits(GgufFile.Open(path), pool, out GgmlType mappedType);
            float[] read = Logits(GgufFile.Load(path), pool, out GgmlType readType);
            Assert.Equal(GgmlType.Q4_K, mappedType);
            Assert.Equal(KernelIsa.Current == Isa.Scalar ? GgmlType.Q4_K : GgmlType.Q4_KInterleaved, readType);
            // Only the order of float additions differs (the integer sums are exact), so the logits agree closely;
            // with int8 activations a rounding of an activation could flip, which moves a logit by ~1e-2 at most.
            float worst = 0;
            for (int i = 0; i < mapped.Length; i++) worst = Math.Max(worst, Math.Abs(mapped[i] - read[i]));
            Assert.True(worst <= (mode == ActivationMode.Float ? 1e-4f : 0.05f), $"max |Δlogit| {worst}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A 24-token prompt in one batch (prefill tiles, MoE experts with few tokens each), then 8 decode steps.</summary>
    private static float[] Logits(GgufFile file, KernelThreadPool pool, out GgmlType attentionType)
    {
        using var model = ModelLoader.Load(file, pool, ownsFile: true);
        attentionType = file.GetTensor("blk.0.attn_q.weight").Type;
        int V = model.VocabSize;
        int[] prompt = Enumerable.Range(0, 24).Select(i => 40 + 7 * i % 80).ToArray();
        var logits = new float[(prompt.Length + 8) * V];
        using var state = model.CreateState(contextLength: 64, maxBatchTokens: prompt.Length);
        model.Forward(state, prompt, logits.AsSpan(0, prompt.Length * V), allPositions: true);
        for (int t = 0; t < 8; t++)
            model.Forward(state, [50 + t], logits.AsSpan((prompt.Length + t) * V, V));
        return logits;
    }

    private static string WriteTemp(byte[] bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"stepsharp-layout-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
