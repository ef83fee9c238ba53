using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models;
using StepSharp.Models.Step35;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Models;

/// <summary>
/// The Step 3.5 forward pass against llama.cpp's reference logits for the random-weight step35-tiny model
/// (testdata/step35-tiny/README.md). Tolerance 1e-3 per logit: the README measures F32 batch-vs-seq noise of
/// ~1e-5 and a smallest top-1/top-2 margin of 0.0136, so 1e-3 catches any real error and keeps argmax stable.
/// </summary>
public class Step35ConformanceTests
{
    private const float LogitTolerance = 1e-3f;

    public static TheoryData<string, string, string> Cases => new()
    {
        { "step35-tiny-a-f32.gguf", "logits.f32.fixed.json", "batch" },
        { "step35-tiny-a-f32.gguf", "logits.f32.fixed.json", "seq" },
        { "step35-tiny-a-f32.gguf", "logits.f32.text.json", "batch" },
        { "step35-tiny-a-f32.gguf", "logits.f32.text.json", "seq" },
        { "step35-tiny-a-q8_0.gguf", "logits.q8_0-deq-f32.fixed.json", "batch" },
        { "step35-tiny-a-q8_0.gguf", "logits.q8_0-deq-f32.fixed.json", "seq" },
        { "step35-tiny-a-q8_0.gguf", "logits.q8_0-deq-f32.text.json", "batch" },
        { "step35-tiny-a-q8_0.gguf", "logits.q8_0-deq-f32.text.json", "seq" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void LogitsMatchLlamaCpp(string modelFile, string referenceFile, string mode)
    {
        // The Q8_0 reference is "dequantize then F32" math (llama.cpp's own int8-activation run is checked in
        // Step35QuantizedActivationTests), so this test pins the float path for every product.
        using var floatMath = ActivationQuantization.Set(ActivationMode.Float);
        var reference = ReferenceLogits.Load(TestData.Path("step35-tiny", referenceFile));
        using var file = GgufFile.Open(TestData.Path("step35-tiny", modelFile));
        using var pool = new KernelThreadPool(2);
        using var model = Step35Model.Load(file, pool);
        int n = reference.Tokens.Length, V = model.VocabSize;
        var logits = new float[n * V];
        using var state = model.CreateState(contextLength: 256, maxBatchTokens: mode == "batch" ? n : 1);
        if (mode == "batch")
        {
            model.Forward(state, reference.Tokens, logits, allPositions: true);
        }
        else
        {
            for (int t = 0; t < n; t++) model.Forward(state, reference.Tokens.AsSpan(t, 1), logits.AsSpan(t * V, V));
        }

        float[][] expected = mode == "batch" ? reference.Batch : reference.Seq;
        float worst = 0;
        for (int t = 0; t < n; t++)
        {
            var row = logits.AsSpan(t * V, V);
            for (int i = 0; i < V; i++) worst = Math.Max(worst, Math.Abs(row[i] - expected[t][i]));
            Assert.Equal(ReferenceLogits.ArgMax(expected[t]), ReferenceLogits.ArgMax(row));
        }
        Assert.True(worst <= LogitTolerance, $"max |Δlogit| = {worst} over {n} positions exceeds {LogitTolerance}");
    }

    [Theory]
    [InlineData("logits.f32.fixed.json")]
    [InlineData("logits.f32.text.json")]
    public void GreedyGenerationMatchesLlamaCpp(string referenceFile)
    {
        var reference = ReferenceLogits.Load(TestData.Path("step35-tiny", referenceFile));
        using var file = GgufFile.Open(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));
        using var pool = new KernelThreadPool(2);
        using var model = Step35Model.Load(file, pool);
        var logits = new float[model.VocabSize];
        using var state = model.CreateState(contextLength: 256, maxBatchTokens: 64);
        model.Forward(state, reference.Tokens, logits);
        var generated = new List<int>();
        for (int i = 0; i < reference.GreedyTokens.Length; i++)
        {
            int next = ReferenceLogits.ArgMax(logits);
            generated.Add(next);
            model.Forward(state, [next], logits);
        }
        Assert.Equal(reference.GreedyTokens, generated);
    }
}
