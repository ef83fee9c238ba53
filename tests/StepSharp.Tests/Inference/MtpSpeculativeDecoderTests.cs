using System.Text.Json;
using StepSharp.Formats;
using StepSharp.Inference;
using StepSharp.Kernels;
using StepSharp.Models.Common;
using StepSharp.Models.Step35;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Inference;

/// <summary>
/// Greedy MTP speculative decoding against llama.cpp's draft-mtp traces (testdata/step35-tiny: mtp.f32.spec.json on
/// the random model, where no draft is ever accepted, and mtp.mtpf-f32.spec.json on the MTP-friendly variant, where
/// 19/28 and 27/60 are): every step's drafts, the trunk's verdicts, the accepted count and the emitted tokens, and
/// the final text equal to plain greedy decoding. The drafts' smallest top-1/top-2 margin in the traces is 0.017,
/// far above F32 noise, so exact token equality is the right test.
/// </summary>
public class MtpSpeculativeDecoderTests
{
    [Theory]
    [InlineData("step35-tiny-a-f32.gguf", "mtp.f32.spec.json", 0)]
    [InlineData("step35-tiny-a-f32.gguf", "mtp.f32.spec.json", 1)]
    [InlineData("step35-tiny-a-mtpf-f32.gguf", "mtp.mtpf-f32.spec.json", 0)]
    [InlineData("step35-tiny-a-mtpf-f32.gguf", "mtp.mtpf-f32.spec.json", 1)]
    public void StepsMatchLlamaCppsDraftMtpDriver(string modelFile, string traceFile, int run)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestData.Path("step35-tiny", traceFile)));
        var root = doc.RootElement;
        int[] prompt = Ints(root.GetProperty("prompt"));
        var trace = root.GetProperty("runs")[run];
        int nMax = trace.GetProperty("n_max").GetInt32();
        int[] expected = Ints(trace.GetProperty("generated"));
        var expectedSteps = trace.GetProperty("steps").EnumerateArray().ToArray();

        using var file = GgufFile.Open(TestData.Path("step35-tiny", modelFile));
        using var pool = new KernelThreadPool(2);
        using var model = Step35Model.Load(file, pool);
        using var decoder = new MtpSpeculativeDecoder(model, 256, nMax, KvCacheType.F32);
        var steps = new List<SpeculativeStep>();
        var generated = decoder.GenerateGreedy(prompt, expected.Length, steps.Add);

        Assert.Equal(expected, generated);
        Assert.Equal(expectedSteps.Length, steps.Count);
        for (int i = 0; i < steps.Count; i++)
        {
            var want = expectedSteps[i];
            Assert.Equal(want.GetProperty("n_past").GetInt32(), steps[i].PastTokens);
            Assert.Equal(want.GetProperty("id_last").GetInt32(), steps[i].LastToken);
            Assert.Equal(Ints(want.GetProperty("draft")), steps[i].Draft);
            Assert.Equal(Ints(want.GetProperty("target_argmax")), steps[i].TargetArgmax);
            Assert.Equal(want.GetProperty("n_accepted").GetInt32(), steps[i].Accepted);
            Assert.Equal(Ints(want.GetProperty("emitted")), steps[i].Emitted);
        }
        if (trace.TryGetProperty("n_accepted", out var accepted))
            Assert.Equal(accepted.GetInt32(), steps.Sum(s => s.Accepted));
    }

    private static int[] Ints(JsonElement a) => a.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
