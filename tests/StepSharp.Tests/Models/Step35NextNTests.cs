using System.Text.Json;
using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models.Step35;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Models;

/// <summary>
/// The MTP head against llama.cpp's teacher-forced MTP references for step35-tiny (testdata/step35-tiny/README.md,
/// "MTP references"): the one-batch process pass over rows (x_p, h_{p−1}) with a zero hidden state for BOS, and the
/// three-step draft chain (head 0 reused) from every base position. The README measures batch-vs-single noise of
/// 4.3e-6 in the logits and an independent float64 reimplementation within 3.1e-6; the smallest top-1/top-2
/// margin of the draft logits is 0.0083, so 1e-3 on logits and 1e-4 (relative to the row's scale) on hidden
/// states catch any real error while keeping every argmax.
/// </summary>
public class Step35NextNTests
{
    private sealed record MtpReference(int[] Tokens, float[][] TrunkH, JsonElement Root);

    private static MtpReference Load()
    {
        var root = JsonDocument.Parse(File.ReadAllBytes(TestData.Path("step35-tiny", "mtp.f32.fixed.json"))).RootElement;
        int[] tokens = root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        float[][] h = root.GetProperty("trunk_h").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetSingle()).ToArray()).ToArray();
        return new MtpReference(tokens, h, root);
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Fact]
    public void TrunkHiddenStatesFeedingTheHeadMatch()
    {
        var reference = Load();
        using var file = GgufFile.Open(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));
        using var pool = new KernelThreadPool(2);
        using var model = Step35Model.Load(file, pool);
        int n = reference.Tokens.Length, D = model.HiddenSize;
        using var state = model.CreateState(64, n);
        var hidden = new float[n * D];
        model.Forward(state, reference.Tokens, new float[model.VocabSize], false, hidden);
        for (int t = 0; t < n; t++) AssertClose(reference.TrunkH[t], hidden.AsSpan(t * D, D), 1e-4f, $"trunk_h[{t}]");
    }

    [Fact]
    public void ProcessPassOverAllRowsMatches()
    {
        var reference = Load();
        using var file = GgufFile.Open(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));
        using var pool = new KernelThreadPool(2);
        using var model = Step35Model.Load(file, pool);
        int n = reference.Tokens.Length, D = model.HiddenSize, V = model.VocabSize;
        using var state = model.CreateState(64, n);
        var hiddenIn = new float[n * D]; // row p takes h_{p−1}; row 0 (BOS) a zero vector
        for (int p = 1; p < n; p++) reference.TrunkH[p - 1].CopyTo(hiddenIn.AsSpan(p * D));
        var hiddenOut = new float[n * D];
        var logits = new float[n * V];
        model.ForwardNextN(0, state, reference.Tokens, hiddenIn, Enumerable.Range(0, n).ToArray(), hiddenOut, logits);

        var rows = reference.Root.GetProperty("process")[0].GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(n, rows.Length);
        for (int p = 0; p < n; p++)
        {
            AssertClose(Floats(rows[p].GetProperty("logits")), logits.AsSpan(p * V, V), 1e-3f, $"process row {p} logits", absolute: true);
            AssertClose(Floats(rows[p].GetProperty("h_out")), hiddenOut.AsSpan(p * D, D), 1e-4f, $"process row {p} h_out");
            Assert.Equal(rows[p].GetProperty("argmax").GetInt32(), ReferenceLogits.ArgMax(logits.AsSpan(p * V, V)));
        }
    }

    [Fact]
    public void DraftChainFromEveryBasePositionMatches()
    {
        var reference = Load();
        using var file = GgufFile.Open(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));
        using var pool = new KernelThreadPool(2);
        using var model = Step35Model.Load(file, pool);
        int n = reference.Tokens.Length, D = model.HiddenSize, V = model.VocabSize;
        var steps = reference.Root.GetProperty("steps").EnumerateArray().ToArray();
        var logits = new float[V];
        var hOut = new float[D];
        for (int t = 0; t + 1 < n; t++)
        {
            // The head's cache holds the trunk pairs of positions 0..t, then the chain goes on from t+1.
            using var state = model.CreateState(64, n);
            var hiddenIn = new float[(t + 1) * D];
            for (int p = 1; p <= t; p++) reference.TrunkH[p - 1].CopyTo(hiddenIn.AsSpan(p * D));
            model.ForwardNextN(0, state, reference.Tokens.AsSpan(0, t + 1), hiddenIn, Enumerable.Range(0, t + 1).ToArray(), new float[(t + 1) * D], default);

            int token = reference.Tokens[t + 1];
            float[] h = reference.TrunkH[t];
            for (int i = 0; i < steps.Length; i++)
            {
                model.ForwardNextN(0, state, [token], h, [t + 1 + i], hOut, logits);
                var row = steps[i].GetProperty("rows")[t];
                Assert.Equal(t + 1 + i, row.GetProperty("pos").GetInt32());
                Assert.Equal(row.GetProperty("token_in").GetInt32(), token);
                AssertClose(Floats(row.GetProperty("logits")), logits, 1e-3f, $"step {i} base {t} logits", absolute: true);
                AssertClose(Floats(row.GetProperty("h_out")), hOut, 1e-4f, $"step {i} base {t} h_out");
                token = ReferenceLogits.ArgMax(logits);
                Assert.Equal(row.GetProperty("argmax").GetInt32(), token);
                h = (float[])hOut.Clone();
            }
        }
    }

    private static void AssertClose(float[] expected, ReadOnlySpan<float> actual, float tolerance, string what, bool absolute = false)
    {
        float scale = absolute ? 1f : Math.Max(1e-6f, expected.Max(Math.Abs));
        float worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst <= tolerance * scale, $"{what}: max |Δ| {worst:E2} (scale {scale:E2}, tolerance {tolerance:E0})");
    }
}
