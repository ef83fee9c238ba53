// Tests pass their own tokens (timeouts, disconnects); the xUnit test token is not the point here.
#pragma warning disable xUnit1051

using StepSharp.Formats;
using StepSharp.Inference;
using StepSharp.Inference.Sampling;
using StepSharp.Models.Step35;

namespace StepSharp.Tests.Inference;

public class BatchingCompletionEngineTests
{
    private static readonly Lazy<byte[]> Image = new(() => Step35RandomModel.Build(Step35ModelShape.Tiny, seed: 5).ToArray());

    internal static LoadedModel LoadTiny(int threads = 1) => LoadedModel.FromFile(GgufFile.FromBytes(Image.Value, "tiny-random"), threads, "tiny-random");

    private static int[] Prompt(int seed, int length)
    {
        var rng = new Random(seed);
        var p = new int[length];
        p[0] = 256;
        for (int i = 1; i < length; i++) p[i] = rng.Next(32, 127);
        return p;
    }

    private static async Task<(int[] Tokens, GenerationResult Result)> Run(ICompletionEngine engine, int[] prompt, GenerationOptions options, CancellationToken ct = default)
    {
        var tokens = new List<int>();
        GenerationResult? result = null;
        await foreach (var e in engine.StreamAsync(new CompletionRequest { PromptTokens = prompt, Options = options }, ct))
        {
            if (e is CompletionToken { Token.TokenId: >= 0 } t) tokens.Add(t.Token.TokenId);
            if (e is CompletionFinished f) result = f.Result;
        }
        Assert.NotNull(result);
        Assert.Equal(tokens, result.Tokens);
        return ([.. tokens], result);
    }

    private static GenerationOptions Greedy(int maxTokens) => new() { MaxTokens = maxTokens, Sampling = new SamplingOptions { Temperature = 0 } };

    [Fact]
    public async Task GreedyOutputIsTheSameAloneAndAmongOthersAndMatchesTheSingleSequenceGenerator()
    {
        using var model = LoadTiny(2);
        // Prompts of different lengths: several chunks of 4 (and a ring of window 8 + 4 − 1 slots) while others decode.
        int[][] prompts = [.. Enumerable.Range(0, 7).Select(i => Prompt(i, 3 + 5 * i))];
        var options = new BatchingOptions { ContextLength = 128, MaxParallel = 3, PrefillChunk = 4, PrefillTokensPerStep = 8 };

        int[][] alone = new int[prompts.Length][];
        using (var engine = new BatchingCompletionEngine(model, options))
            for (int i = 0; i < prompts.Length; i++) alone[i] = (await Run(engine, prompts[i], Greedy(20))).Tokens;

        // The plain generator (prefill chunks of 64, no batching) must agree token for token.
        using (var generator = new TextGenerator(model, 128))
            for (int i = 0; i < prompts.Length; i++)
                Assert.Equal(alone[i], generator.Generate(prompts[i], Greedy(20)).Tokens);

        using (var engine = new BatchingCompletionEngine(model, options))
        {
            var together = await Task.WhenAll(prompts.Select(p => Task.Run(() => Run(engine, p, Greedy(20)))));
            for (int i = 0; i < prompts.Length; i++) Assert.Equal(alone[i], together[i].Tokens);
            Assert.Equal(0, engine.Metrics.ActiveSequences);
            Assert.Equal(prompts.Length, engine.Metrics.RequestsCompleted);
            Assert.Equal(prompts.Sum(p => p.Length), engine.Metrics.PromptTokens);
        }
        Assert.All(alone, a => Assert.Equal(20, a.Length));
    }

    [Fact]
    public async Task SeededSamplingIsReproducibleAmongOtherRequests()
    {
        using var model = LoadTiny();
        using var engine = new BatchingCompletionEngine(model, new BatchingOptions { ContextLength = 64, MaxParallel = 4, PrefillChunk = 8, PrefillTokensPerStep = 8 });
        var seeded = new GenerationOptions { MaxTokens = 12, Sampling = new SamplingOptions { Temperature = 1.2f, Seed = 99 } };
        int[] prompt = Prompt(1, 9);
        var alone = (await Run(engine, prompt, seeded)).Tokens;
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => Run(engine, i == 0 ? prompt : Prompt(10 + i, 5 + i), i == 0 ? seeded : Greedy(12)))));
        Assert.Equal(alone, runs[0].Tokens);
        var otherSeed = (await Run(engine, prompt, seeded with { Sampling = seeded.Sampling with { Seed = 100 } })).Tokens;
        Assert.NotEqual(alone, otherSeed);
    }

    [Fact]
    public async Task AFullQueueRefusesWithQueueFullException()
    {
        using var model = LoadTiny();
        using var engine = new BatchingCompletionEngine(model, new BatchingOptions { ContextLength = 512, MaxParallel = 1, MaxQueued = 1 });
        using var cts = new CancellationTokenSource();
        var long1 = new GenerationOptions { MaxTokens = 400, IgnoreEndOfGeneration = true, Sampling = new SamplingOptions { Temperature = 0 } };
        var running = Run(engine, Prompt(1, 4), long1, cts.Token);
        await WaitFor(() => engine.Metrics.ActiveSequences == 1);
        var queued = Run(engine, Prompt(2, 4), long1, cts.Token);
        await WaitFor(() => engine.Metrics.QueueDepth == 1);
        var e = await Assert.ThrowsAsync<QueueFullException>(() => Run(engine, Prompt(3, 4), Greedy(1)));
        Assert.Contains("busy", e.Message);
        cts.Cancel();
        await Task.WhenAll(Swallow(running), Swallow(queued));
        await WaitFor(() => engine.Metrics is { ActiveSequences: 0, QueueDepth: 0 });
        Assert.Single((await Run(engine, Prompt(4, 4), Greedy(1))).Tokens);
    }

    [Fact]
    public async Task CancellingAStreamFreesTheSlotAtOnce()
    {
        using var model = LoadTiny();
        using var engine = new BatchingCompletionEngine(model, new BatchingOptions { ContextLength = 2048, MaxParallel = 2 });
        var request = new CompletionRequest { PromptTokens = Prompt(1, 6), Options = new GenerationOptions { MaxTokens = 2000, IgnoreEndOfGeneration = true } };
        int seen = 0;
        await foreach (var e in engine.StreamAsync(request))
            if (e is CompletionToken && ++seen == 3) break; // the consumer leaves mid-stream
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await WaitFor(() => engine.Metrics.ActiveSequences == 0);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the slot was freed after {clock.Elapsed}");
        Assert.Equal(1, engine.Metrics.RequestsCancelled);
        Assert.Equal(0, engine.Metrics.KvTokensInUse);
    }

    [Fact]
    public async Task StopStringsMaxTokensAndTheScriptSeamBehaveAsInTheSingleGenerator()
    {
        using var model = LoadTiny();
        var script = new FixedScript(model.Tokenizer.Encode("abc STOP def", addSpecial: false));
        using var engine = new BatchingCompletionEngine(model, new BatchingOptions { ContextLength = 64 }, script);
        var (tokens, result) = await Run(engine, Prompt(1, 5), new GenerationOptions { MaxTokens = 50, StopStrings = ["STOP"] });
        Assert.Equal("abc ", result.Text);
        Assert.Equal(FinishReason.Stop, result.FinishReason);
        var (_, limited) = await Run(engine, Prompt(1, 5), new GenerationOptions { MaxTokens = 2 });
        Assert.Equal(FinishReason.Length, limited.FinishReason);
        Assert.Equal("ab", limited.Text);
        var (_, all) = await Run(engine, Prompt(1, 5), new GenerationOptions { MaxTokens = 50 });
        Assert.Equal(("abc STOP def", FinishReason.Stop), (all.Text, all.FinishReason));
        var (none, zero) = await Run(engine, Prompt(1, 5), new GenerationOptions { MaxTokens = 0 });
        Assert.Empty(none);
        Assert.Equal(FinishReason.Length, zero.FinishReason);
        Assert.NotEmpty(tokens);
    }

    [Fact]
    public async Task APromptThatFillsTheContextIsRefusedNamingTheLimit()
    {
        using var model = LoadTiny();
        using var engine = new BatchingCompletionEngine(model, new BatchingOptions { ContextLength = 16 });
        var e = await Assert.ThrowsAsync<ContextLengthExceededException>(() => Run(engine, Prompt(1, 16), Greedy(1)));
        Assert.Contains("16", e.Message);
        // Generation that reaches the end of the context stops with Length.
        var (tokens, result) = await Run(engine, Prompt(1, 10), Greedy(100) with { IgnoreEndOfGeneration = true });
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Equal(16 - 10 + 1, tokens.Length); // the last token sampled needs no cache slot of its own
    }

    [Fact]
    public async Task ARequestWhoseSamplingFailsFailsAloneAndTheOthersGoOn()
    {
        using var model = LoadTiny();
        using var engine = new BatchingCompletionEngine(model, new BatchingOptions { ContextLength = 64, MaxParallel = 2 });
        int[] prompt = Prompt(3, 6);
        var alone = (await Run(engine, prompt, Greedy(16))).Tokens;
        var banAll = Enumerable.Range(0, model.Model.VocabSize).ToDictionary(i => i, _ => float.NegativeInfinity);
        var bad = new GenerationOptions { MaxTokens = 4, Sampling = new SamplingOptions { LogitBias = banAll } };
        var good = Task.Run(() => Run(engine, prompt, Greedy(16)));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Run(engine, Prompt(4, 3), bad));
        Assert.Contains("every token is banned", e.Message);
        Assert.Equal(alone, (await good).Tokens);
        Assert.Equal(0, engine.Metrics.ActiveSequences);
    }

    [Fact]
    public async Task ASlotReusedAfterALongSequenceGivesTheSameOutputAsAFreshOne()
    {
        using var model = LoadTiny();
        var options = new BatchingOptions { ContextLength = 128, MaxParallel = 1, PrefillChunk = 4, PrefillTokensPerStep = 4 };
        int[] prompt = Prompt(8, 7);
        int[] fresh;
        using (var engine = new BatchingCompletionEngine(model, options)) fresh = (await Run(engine, prompt, Greedy(10))).Tokens;
        using (var engine = new BatchingCompletionEngine(model, options))
        {
            // 60 positions: far past the sliding ring (window 8 + chunk 4 − 1 slots), so the slot cannot simply rewind.
            await Run(engine, Prompt(9, 20), Greedy(40) with { IgnoreEndOfGeneration = true });
            Assert.Equal(fresh, (await Run(engine, prompt, Greedy(10))).Tokens);
        }
        using var generator = new TextGenerator(model, 128, 4);
        generator.Generate(Prompt(9, 20), Greedy(40) with { IgnoreEndOfGeneration = true });
        Assert.Equal(fresh, generator.Generate(prompt, Greedy(10)).Tokens);
    }

    internal static async Task WaitFor(Func<bool> condition, int timeoutMs = 5000)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.ElapsedMilliseconds > timeoutMs) Assert.Fail("condition not reached in time");
            await Task.Delay(5);
        }
    }

    private static async Task Swallow(Task t)
    {
        try { await t; } catch (OperationCanceledException) { }
    }

    private sealed class FixedScript(int[] tokens) : IScriptedOutput
    {
        public IReadOnlyList<int> Next(IReadOnlyList<int> promptTokens) => tokens;
    }
}
