using StepSharp.Formats;
using StepSharp.Inference;
using StepSharp.Inference.Sampling;
using StepSharp.Models.Common;
using StepSharp.Models.Step35;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Inference;

/// <summary>
/// An agent loop resends the whole conversation each turn; the generator keeps the KV cache of the shared prefix and
/// computes only the new tokens. The output must be the same as from a fresh generator.
/// </summary>
public class PrefixReuseTests
{
    private static readonly GenerationOptions Greedy = new() { MaxTokens = 12, Sampling = new SamplingOptions { Temperature = 0 }, IgnoreEndOfGeneration = true };

    [Fact]
    public void ASecondTurnReusesTheFirstTurnsCacheAndGivesTheSameTokens()
    {
        using var model = LoadedModel.Open(TestData.Path("stories260K", "stories260K.gguf"), 2);
        using var warm = new TextGenerator(model, 256, 16, KvCacheType.F32);
        int[] turn1 = [1, 403, 407, 261, 378];
        var first = warm.Generate(turn1, Greedy, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(0, first.CachedPromptTokens);

        // Turn 2 = turn 1 + its answer + new text: everything up to the answer's last forwarded token is reused.
        int[] turn2 = [.. turn1, .. first.Tokens, 261, 378];
        var second = warm.Generate(turn2, Greedy, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(turn1.Length + first.Tokens.Count - 1, second.CachedPromptTokens);

        using var fresh = new TextGenerator(model, 256, 16, KvCacheType.F32);
        var expected = fresh.Generate(turn2, Greedy, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(0, expected.CachedPromptTokens);
        Assert.Equal(expected.Tokens, second.Tokens);

        // The same prompt again: all but its last token come from the cache.
        var again = warm.Generate(turn2, Greedy, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(turn2.Length - 1, again.CachedPromptTokens);
        Assert.Equal(expected.Tokens, again.Tokens);
    }

    [Fact]
    public void SlidingWindowLayersFallBackToAFullPrefillWhenTheirRingCannotRewind()
    {
        using var model = LoadedModel.FromFile(GgufFile.FromBytes(Step35RandomModel.Build(Step35ModelShape.Tiny, 9).ToArray(), "tiny"), 2, "tiny");
        using var warm = new TextGenerator(model, 256, 4, KvCacheType.F32);
        int[] long1 = Enumerable.Range(0, 30).Select(i => 32 + i).ToArray();
        warm.Generate(long1, Greedy, cancellationToken: TestContext.Current.CancellationToken);
        int[] diverging = [.. long1[..5], 100, 101, 102]; // shares 5 tokens, far behind the window of 8 + 4 − 1 slots
        var result = warm.Generate(diverging, Greedy, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(0, result.CachedPromptTokens);
        using var fresh = new TextGenerator(model, 256, 4, KvCacheType.F32);
        Assert.Equal(fresh.Generate(diverging, Greedy, cancellationToken: TestContext.Current.CancellationToken).Tokens, result.Tokens);

        // A continuation within the ring's slack is reused.
        int[] next = [.. diverging, .. result.Tokens];
        var continued = warm.Generate(next, Greedy, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(diverging.Length + result.Tokens.Count - 1, continued.CachedPromptTokens);
        using var fresh2 = new TextGenerator(model, 256, 4, KvCacheType.F32);
        Assert.Equal(fresh2.Generate(next, Greedy, cancellationToken: TestContext.Current.CancellationToken).Tokens, continued.Tokens);
    }
}

/// <summary>The batching engine picks the free slot whose cache shares the longest prefix with a new request.</summary>
public class BatchingPrefixReuseTests
{
    [Fact]
    public async Task AFollowUpRequestReusesItsSlotsCacheAndMatchesAFreshEngine()
    {
        using var model = LoadedModel.Open(TestData.Path("stories260K", "stories260K.gguf"), 2);
        var options = new BatchingOptions { ContextLength = 256, MaxParallel = 2, PrefillChunk = 8, CacheType = KvCacheType.F32 };
        var greedy = new GenerationOptions { MaxTokens = 10, Sampling = new SamplingOptions { Temperature = 0 }, IgnoreEndOfGeneration = true };
        int[] turn1 = [1, 403, 407, 261, 378];
        using var engine = new BatchingCompletionEngine(model, options);
        var first = await Run(engine, turn1, greedy);
        int[] turn2 = [.. turn1, .. first.Tokens, 261];
        var second = await Run(engine, turn2, greedy);
        Assert.Equal(turn1.Length + first.Tokens.Count - 1, second.CachedPromptTokens);
        Assert.Equal(second.CachedPromptTokens, engine.Metrics.PromptTokensReused);

        using var freshEngine = new BatchingCompletionEngine(model, options);
        var fresh = await Run(freshEngine, turn2, greedy);
        Assert.Equal(0, fresh.CachedPromptTokens);
        Assert.Equal(fresh.Tokens, second.Tokens);
    }

    private static async Task<GenerationResult> Run(ICompletionEngine engine, int[] prompt, GenerationOptions options)
    {
        GenerationResult? result = null;
        await foreach (var e in engine.StreamAsync(new CompletionRequest { PromptTokens = prompt, Options = options }, TestContext.Current.CancellationToken))
            if (e is CompletionFinished f) result = f.Result;
        return result!;
    }
}
