using System.Text.Json;
using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models.Step35;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Models;

/// <summary>
/// Layer-by-layer comparison of our named intermediates with llama.cpp's graph tensors for the F32 tiny
/// model on the `fixed` sequence (tensors.f32.fixed.json, 7 significant digits). Each tensor must agree within
/// 1e-4 relative to its largest reference magnitude, so a wrong op is pinned to the layer and step where it starts.
/// </summary>
public class Step35IntermediatesTests
{
    private const double RelativeTolerance = 1e-4;

    private static readonly Lazy<(Dictionary<string, (int[] Ne, float[] Data)> Reference, StepSharp.Models.ActivationDump Ours)> Run = new(() =>
    {
        var reference = LoadReference(TestData.Path("step35-tiny", "tensors.f32.fixed.json"));
        var tokens = ReferenceLogits.Load(TestData.Path("step35-tiny", "logits.f32.fixed.json")).Tokens;
        using var file = GgufFile.Open(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));
        using var pool = new KernelThreadPool(1);
        using var model = Step35Model.Load(file, pool);
        var sink = new StepSharp.Models.ActivationDump();
        using var state = model.CreateState(256, tokens.Length);
        state.Activations = sink;
        model.Forward(state, tokens, new float[tokens.Length * model.VocabSize], allPositions: true);
        return (reference, sink);
    });

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        if (TestData.RootOrNull is null) { data.Add("(testdata absent)"); return data; }
        string path = Path.Combine(TestData.RootOrNull, "step35-tiny", "tensors.f32.fixed.json");
        if (!File.Exists(path)) { data.Add("(testdata absent)"); return data; }
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        foreach (var p in doc.RootElement.EnumerateObject()) data.Add(p.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void IntermediateMatchesLlamaCpp(string name)
    {
        var (reference, ours) = Run.Value;
        var (ne, expected) = reference[name];
        if (name.StartsWith("ffn_moe_argsort-", StringComparison.Ordinal))
        {
            CompareSelectedExperts(name, ne, expected, ours);
            return;
        }
        if (name.StartsWith("ffn_moe_weights_scaled-", StringComparison.Ordinal))
        {
            CompareExpertWeights(name, expected, reference, ours);
            return;
        }
        Assert.True(ours.Tensors.TryGetValue(name, out var actual), $"the model reported no intermediate named '{name}'");
        Assert.Equal(expected.Length, actual.Data.Length);
        double scale = 0, worst = 0;
        for (int i = 0; i < expected.Length; i++) scale = Math.Max(scale, Math.Abs(expected[i]));
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual.Data[i]));
        Assert.True(worst <= RelativeTolerance * Math.Max(scale, 1e-6), $"{name}: max |Δ| = {worst:E3} with reference scale {scale:E3} (limit {RelativeTolerance:E0} relative)");
    }

    // ggml's argsort column holds all experts; its first k entries are the chosen ones in no promised order.
    private static void CompareSelectedExperts(string name, int[] ne, float[] expected, StepSharp.Models.ActivationDump ours)
    {
        string layer = name["ffn_moe_argsort-".Length..];
        var (ids, shape) = ours.Tensors[$"ffn_moe_topk-{layer}"];
        int k = shape[0], tokens = shape[1], E = ne[0];
        for (int t = 0; t < tokens; t++)
        {
            var want = new SortedSet<int>();
            var got = new SortedSet<int>();
            for (int j = 0; j < k; j++) { want.Add((int)expected[t * E + j]); got.Add((int)ids[t * k + j]); }
            Assert.True(want.SetEquals(got), $"{name} token {t}: experts [{string.Join(",", got)}], llama.cpp [{string.Join(",", want)}]");
        }
    }

    private static void CompareExpertWeights(string name, float[] expected, Dictionary<string, (int[] Ne, float[] Data)> reference, StepSharp.Models.ActivationDump ours)
    {
        string layer = name["ffn_moe_weights_scaled-".Length..];
        var (refIds, refNe) = (reference[$"ffn_moe_argsort-{layer}"].Data, reference[$"ffn_moe_argsort-{layer}"].Ne);
        var (ids, shape) = ours.Tensors[$"ffn_moe_topk-{layer}"];
        var weights = ours.Tensors[name].Data;
        int k = shape[0], tokens = shape[1], E = refNe[0];
        for (int t = 0; t < tokens; t++)
            for (int j = 0; j < k; j++)
            {
                int expert = (int)refIds[t * E + j];
                int mine = Array.IndexOf(ids, expert, t * k, k) - t * k;
                Assert.True(mine >= 0, $"{name} token {t}: expert {expert} not chosen");
                float a = weights[t * k + mine], e = expected[t * k + j];
                Assert.True(Math.Abs(a - e) <= RelativeTolerance * Math.Max(1, Math.Abs(e)), $"{name} token {t} expert {expert}: {a} vs {e}");
            }
    }

    private static Dictionary<string, (int[] Ne, float[] Data)> LoadReference(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var result = new Dictionary<string, (int[], float[])>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            var ne = p.Value.GetProperty("ne").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var data = p.Value.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            result[p.Name] = (ne, data);
        }
        return result;
    }
}
