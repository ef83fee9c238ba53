using StepSharp.Inference.Sampling;

namespace StepSharp.Tests.Inference.Sampling;

/// <summary>The sampler runs once per generated token: it must not allocate.</summary>
public class SamplerAllocationTests
{
    public static TheoryData<string> Configurations() => ["full", "topk-topp-minp", "topp-only", "minp-only", "greedy", "logprobs"];

    [Theory]
    [MemberData(nameof(Configurations))]
    public void ThousandCallsAllocateNothing(string configuration)
    {
        const int vocab = 128_000;
        var options = configuration switch
        {
            "full" => new SamplingOptions { Seed = 1 },
            "topk-topp-minp" => new SamplingOptions
            {
                TopK = 40, TopP = 0.95f, MinP = 0.05f, Temperature = 0.8f, RepetitionPenalty = 1.1f, PresencePenalty = 0.2f,
                FrequencyPenalty = 0.1f, PenaltyWindow = 64, LogitBias = new Dictionary<int, float> { [3] = -1f, [9] = float.NegativeInfinity }, Seed = 2,
            },
            "topp-only" => new SamplingOptions { TopP = 0.9f, Seed = 3 },
            "minp-only" => new SamplingOptions { MinP = 0.1f, Seed = 4 },
            "greedy" => new SamplingOptions { Temperature = 0f, RepetitionPenalty = 1.3f },
            _ => new SamplingOptions { TopK = 40, TopLogprobs = 20, Seed = 5 },
        };
        float[] source = SamplerTestSupport.RandomLogits(vocab, seed: 9, scale: 8.0);
        var logits = new float[vocab];
        int[] history = Enumerable.Range(0, 200).Select(i => (i * 7919) % vocab).ToArray();
        var alternatives = new TokenLogprob[20];
        var sampler = new Sampler(options, vocab);

        void Run(int calls)
        {
            for (int i = 0; i < calls; i++)
            {
                source.CopyTo(logits.AsSpan());
                if (configuration == "logprobs") sampler.SampleWithLogprobs(logits, history, alternatives, out _, out _);
                else sampler.Sample(logits, history);
            }
        }

        Run(300); // warm up: past the 30-call tier-up threshold of precompiled framework code (TensorPrimitives), whose re-JIT may allocate
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }
}
