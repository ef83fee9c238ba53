using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models.Step35;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Models;

/// <summary>
/// With <see cref="ActivationQuantization"/> on, the Q8_0 model computes what llama.cpp's own Q8_0 run
/// computes (activations rounded to Q8_0 blocks, integer dot products), checked against llama.cpp's
/// logits.q8_0.* reference. Rounding activations to int8 is discontinuous: a value within an ulp of a
/// half-step rounds either way depending on the last bit of upstream sums, whose order differs between
/// engines (and between our tiers), and such a flip moves that position's logits by a few 1e-2. So the check
/// is in two parts: (1) most positions (≥ 90 %) match to 1e-3 — measured: all but one or two to ~1e-6;
/// (2) every position is within 0.1, while the two llama.cpp references (q8_0 and q8_0-deq-f32) differ by
/// ≥ 0.165 at every position, so the test tells the int8 computation from the float one. Argmax is not
/// compared: the reference's smallest top-1/top-2 margin (0.0126) is below the size of a flip.
/// </summary>
public class Step35QuantizedActivationTests
{
    private const float LogitTolerance = 1e-3f;
    private const float FlipTolerance = 0.1f;
    private const double MatchingShare = 0.9;

    public static TheoryData<string, string> Cases => new()
    {
        { "logits.q8_0.fixed.json", "batch" },
        { "logits.q8_0.fixed.json", "seq" },
        { "logits.q8_0.text.json", "batch" },
        { "logits.q8_0.text.json", "seq" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Q8ActivationLogitsMatchLlamaCppQ8_0(string referenceFile, string mode)
    {
        var reference = ReferenceLogits.Load(TestData.Path("step35-tiny", referenceFile));
        using var file = GgufFile.Open(TestData.Path("step35-tiny", "step35-tiny-a-q8_0.gguf"));
        using var pool = new KernelThreadPool(2);
        using var model = Step35Model.Load(file, pool);
        using var quantized = ActivationQuantization.Enable();
        int n = reference.Tokens.Length, V = model.VocabSize;
        var logits = new float[n * V];
        using var state = model.CreateState(contextLength: 256, maxBatchTokens: mode == "batch" ? n : 1);
        if (mode == "batch") model.Forward(state, reference.Tokens, logits, allPositions: true);
        else for (int t = 0; t < n; t++) model.Forward(state, reference.Tokens.AsSpan(t, 1), logits.AsSpan(t * V, V));

        float[][] expected = mode == "batch" ? reference.Batch : reference.Seq;
        var outside = new List<string>();
        float worst = 0;
        for (int t = 0; t < n; t++)
        {
            var row = logits.AsSpan(t * V, V);
            float positionWorst = 0;
            for (int i = 0; i < V; i++) positionWorst = Math.Max(positionWorst, Math.Abs(row[i] - expected[t][i]));
            if (positionWorst > LogitTolerance) outside.Add($"{t}: {positionWorst}");
            worst = Math.Max(worst, positionWorst);
        }
        Assert.True(outside.Count <= (1 - MatchingShare) * n && worst <= FlipTolerance,
            $"|Δlogit| above {LogitTolerance} at positions {string.Join(", ", outside)} of {n} (allowed: {(1 - MatchingShare) * n:F0} positions, each below {FlipTolerance})");
    }
}
