using StepSharp.Inference.Sampling;
using static StepSharp.Tests.Inference.Sampling.SamplerTestSupport;

namespace StepSharp.Tests.Inference.Sampling;

public class SamplerTests
{
    private const int Draws = 20_000;

    // Chi-square critical values at p = 0.001 (tables): a correct sampler fails with probability 1/1000 per
    // seed; seeds are fixed so the outcome is stable.
    private static readonly Dictionary<int, double> ChiSquareCritical999 = new() { [4] = 18.47, [7] = 24.32, [9] = 27.88 };

    [Fact]
    public void TopKNeverSamplesOutsideTheKBest()
    {
        float[] logits = RandomLogits(1000, seed: 1, scale: 1.0);
        var best = Ranked(logits).Take(10).ToHashSet();
        int[] draws = Draw(new SamplingOptions { TopK = 10, Temperature = 1.5f, Seed = 7 }, logits, Draws);
        Assert.All(draws, d => Assert.Contains(d, best));
        Assert.Equal(best.Count, draws.Distinct().Count()); // and it is not just greedy
    }

    [Fact]
    public void TopPNeverSamplesOutsideTheNucleusAndKeepsItsProportions()
    {
        float[] logits = RandomLogits(500, seed: 2, scale: 4.0);
        double[] p = Softmax(logits);
        int[] ranked = Ranked(logits);
        var nucleus = new List<int>();
        double cumulative = 0;
        foreach (int id in ranked)
        {
            nucleus.Add(id);
            cumulative += p[id];
            if (cumulative >= 0.8) break;
        }
        // Temperature 0.7 must not change which tokens are in the nucleus (judged at temperature 1), only their odds.
        int[] draws = Draw(new SamplingOptions { TopP = 0.8f, Temperature = 0.7f, Seed = 11 }, logits, Draws);
        Assert.All(draws, d => Assert.Contains(d, nucleus));
        Assert.True(nucleus.Count >= 5, "test logits should give a nucleus of several tokens");
        double[] atT = Softmax(logits, 0.7);
        double z = nucleus.Sum(id => atT[id]);
        // Pool the tail of the nucleus into the last cell so every expected count is large.
        var top = nucleus.Take(7).ToList();
        var expected = top.ToDictionary(id => id, id => atT[id] / z);
        int[] pooled = draws.Select(d => top.Contains(d) ? d : -1).ToArray();
        if (nucleus.Count > 7) expected[-1] = 1 - expected.Values.Sum();
        double chi = ChiSquare(pooled, expected);
        Assert.True(chi < 27.88, $"chi-square {chi:F2} over {expected.Count} cells");
    }

    [Theory]
    [InlineData(1.0f, 3u)]
    [InlineData(0.5f, 4u)]
    [InlineData(2.0f, 5u)]
    public void FrequenciesMatchSoftmaxAtTemperature(float temperature, ulong seed)
    {
        float[] logits = [1.0f, 0.2f, -0.5f, 2.0f, 0.0f, -1.0f, 1.5f, 0.7f];
        double[] p = Softmax(logits, temperature);
        var expected = Enumerable.Range(0, logits.Length).ToDictionary(i => i, i => p[i]);
        int[] draws = Draw(new SamplingOptions { Temperature = temperature, Seed = seed }, logits, Draws);
        double chi = ChiSquare(draws, expected);
        Assert.True(chi < ChiSquareCritical999[7], $"chi-square {chi:F2}, df 7");
    }

    [Fact]
    public void TopKFrequenciesMatchRenormalisedSoftmax()
    {
        float[] logits = [1.0f, 0.2f, -0.5f, 2.0f, 0.0f, -1.0f, 1.5f, 0.7f];
        int[] best = Ranked(logits).Take(5).ToArray();
        double[] p = Softmax(logits);
        double z = best.Sum(i => p[i]);
        var expected = best.ToDictionary(i => i, i => p[i] / z);
        int[] draws = Draw(new SamplingOptions { TopK = 5, Seed = 6 }, logits, Draws);
        Assert.True(ChiSquare(draws, expected) < ChiSquareCritical999[4]);
    }

    [Fact]
    public void MinPKeepsExactlyTheTokensAboveTheFractionOfTheBest()
    {
        float[] logits = RandomLogits(300, seed: 3, scale: 3.0);
        double[] p = Softmax(logits);
        double pMax = p.Max();
        var kept = Enumerable.Range(0, logits.Length).Where(i => p[i] >= 0.2 * pMax).ToHashSet();
        Assert.True(kept.Count >= 3);
        int[] draws = Draw(new SamplingOptions { MinP = 0.2f, Temperature = 3f, Seed = 12 }, logits, Draws);
        Assert.All(draws, d => Assert.Contains(d, kept));
        Assert.Equal(kept.Count, draws.Distinct().Count());
    }

    [Fact]
    public void SameSeedReproducesDifferentSeedsDiffer()
    {
        float[] logits = RandomLogits(2000, seed: 4, scale: 2.0);
        var options = new SamplingOptions { TopK = 50, TopP = 0.9f, Seed = 42 };
        int[] a = Draw(options, logits, 300);
        int[] b = Draw(options, logits, 300);
        int[] c = Draw(options with { Seed = 43 }, logits, 300);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);

        var sampler = new Sampler(options, logits.Length);
        int[] first = Enumerable.Range(0, 50).Select(_ => sampler.Sample((float[])logits.Clone(), [])).ToArray();
        sampler.Reset();
        int[] again = Enumerable.Range(0, 50).Select(_ => sampler.Sample((float[])logits.Clone(), [])).ToArray();
        Assert.Equal(first, again);
        Assert.Equal(a[..50], first);
    }

    [Fact]
    public void RandomStreamIsOurOwnXoshiro256StarStar()
    {
        // Reference values from the algorithm's definition (state seeded by SplitMix64 from 0), computed by hand-written
        // big-integer arithmetic in the test rather than by the class under test.
        var rng = new Xoshiro256StarStar(0);
        ulong[] state = SplitMixState(0);
        for (int i = 0; i < 5; i++) Assert.Equal(ReferenceNext(state), rng.NextUInt64());
    }

    private static ulong[] SplitMixState(ulong seed)
    {
        var s = new ulong[4];
        System.Numerics.BigInteger x = seed, mask = ulong.MaxValue;
        for (int i = 0; i < 4; i++)
        {
            x = (x + 0x9E3779B97F4A7C15UL) & mask;
            var z = x;
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL) & mask;
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EBUL) & mask;
            s[i] = (ulong)(z ^ (z >> 31));
        }
        return s;
    }

    private static ulong ReferenceNext(ulong[] s)
    {
        static ulong Rotl(ulong v, int k) => (v << k) | (v >> (64 - k));
        ulong result = unchecked(Rotl(unchecked(s[1] * 5), 7) * 9);
        ulong t = s[1] << 17;
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = Rotl(s[3], 45);
        return result;
    }

    [Fact]
    public void TemperatureTowardsZeroEqualsGreedy()
    {
        for (int seed = 0; seed < 50; seed++)
        {
            float[] logits = RandomLogits(5000, seed: 100 + seed, scale: 5.0);
            int argmax = Ranked(logits)[0];
            float second = logits[Ranked(logits)[1]];
            Assert.Equal(argmax, Draw(new SamplingOptions { Temperature = 0f }, logits, 1)[0]);
            Assert.Equal(argmax, Draw(new SamplingOptions { Temperature = -1f, TopK = 3 }, logits, 1)[0]);
            if (logits[argmax] - second > 0.05f)
                Assert.All(Draw(new SamplingOptions { Temperature = 1e-3f, Seed = (ulong)seed }, logits, 20), d => Assert.Equal(argmax, d));
        }
    }

    [Fact]
    public void GreedyTieGoesToTheLowerId()
    {
        Assert.Equal(1, Draw(new SamplingOptions { Temperature = 0f }, [0f, 3f, 1f, 3f], 1)[0]);
    }

    [Fact]
    public void PenaltiesChangeTheRightLogitsByTheRightAmounts()
    {
        // history [2, 0, 3, 3, 1] with window 4 → recent [0, 3, 3, 1]; token 2 is outside the window.
        // repetition 2: positive logits halve, negative ones double; then − count × 0.25 (frequency) − 0.5 (presence):
        //   token 0:  2   → 1    − 0.25 − 0.5 = 0.25
        //   token 3:  3   → 1.5  − 0.5  − 0.5 = 0.5
        //   token 1: −1   → −2   − 0.25 − 0.5 = −2.75
        float[] logits = [2f, -1f, 0.5f, 3f, -2f];
        var options = new SamplingOptions { Temperature = 0f, RepetitionPenalty = 2f, FrequencyPenalty = 0.25f, PresencePenalty = 0.5f, PenaltyWindow = 4 };
        int token = new Sampler(options, 5).Sample(logits, [2, 0, 3, 3, 1]);
        Assert.Equal([0.25f, -2.75f, 0.5f, 0.5f, -2f], logits);
        Assert.Equal(2, token); // 0.5 ties with token 3: lower id wins

        // Whole history (-1): token 2 also counts once: 0.5 → 0.25 − 0.25 − 0.5 = −0.5.
        float[] all = [2f, -1f, 0.5f, 3f, -2f];
        new Sampler(options with { PenaltyWindow = -1 }, 5).Sample(all, [2, 0, 3, 3, 1]);
        Assert.Equal(-0.5f, all[2]);

        // Counts do not leak between calls: the same call twice gives the same result.
        var sampler = new Sampler(options, 5);
        float[] once = [2f, -1f, 0.5f, 3f, -2f], twice = [2f, -1f, 0.5f, 3f, -2f];
        sampler.Sample(once, [2, 0, 3, 3, 1]);
        sampler.Sample(twice, [2, 0, 3, 3, 1]);
        Assert.Equal(once, twice);
    }

    [Fact]
    public void LogitBiasMinusInfinityBansAToken()
    {
        float[] logits = [0f, 1f, 5f, 0.5f];
        var bias = new Dictionary<int, float> { [2] = float.NegativeInfinity, [0] = 0.75f };
        int[] draws = Draw(new SamplingOptions { LogitBias = bias, Seed = 9 }, logits, Draws);
        Assert.DoesNotContain(2, draws);
        Assert.Equal(1, Draw(new SamplingOptions { LogitBias = bias, Temperature = 0f }, logits, 1)[0]);
        // +0.75 on token 0 makes it 0.75 vs 1 and 0.5: frequencies follow softmax([0.75, 1, -inf, 0.5]).
        double[] p = Softmax([0.75f, 1f, float.NegativeInfinity, 0.5f]);
        var expected = new Dictionary<int, double> { [0] = p[0], [1] = p[1], [3] = p[3] };
        Assert.True(ChiSquare(draws, expected) < 13.82); // df 2
        var allBanned = new Dictionary<int, float> { [0] = float.NegativeInfinity, [1] = float.NegativeInfinity };
        Assert.Throws<InvalidOperationException>(() => new Sampler(new SamplingOptions { LogitBias = allBanned }, 2).Sample(new float[2], []));
    }

    [Fact]
    public void TopPFallsBackToTheWholeVocabularyWhenTheTailMatters()
    {
        // One token at 0 and 20 000 at −21 (below the 20-logit window). With p = 0.99999 the nucleus needs j tail
        // tokens: 1 + j·e^−21 ≥ p·(1 + 20 000·e^−21). Temperature 100 makes the tail tokens likely to be drawn
        // (about uniformly), so the largest id drawn approaches j but must never pass it.
        int vocab = 20_001;
        var logits = new float[vocab];
        Array.Fill(logits, -21f);
        logits[0] = 0f;
        double e = Math.Exp((double)-21f);
        int j = (int)Math.Ceiling((0.99999f * (1 + 20_000 * e) - 1) / e);
        int[] draws = Draw(new SamplingOptions { TopP = 0.99999f, Temperature = 100f, Seed = 5 }, logits, 400);
        int maxId = draws.Max();
        Assert.InRange(maxId, (int)(0.9 * j), j + 2);
    }

    [Fact]
    public void LogprobsComeFromTheBiasedPenalisedDistributionAtTemperatureOne()
    {
        float[] logits = RandomLogits(1000, seed: 8, scale: 4.0);
        var bias = new Dictionary<int, float> { [5] = 3f };
        var options = new SamplingOptions { TopK = 20, Temperature = 0.6f, LogitBias = bias, TopLogprobs = 5, Seed = 1 };
        float[] expectedLogits = (float[])logits.Clone();
        expectedLogits[5] += 3f;
        double max = expectedLogits.Max();
        double logZ = max + Math.Log(expectedLogits.Sum(l => Math.Exp(l - max)));
        int[] top = Ranked(expectedLogits).Take(5).ToArray();

        var sampler = new Sampler(options, logits.Length);
        var alternatives = new TokenLogprob[8];
        int token = sampler.SampleWithLogprobs(logits, [], alternatives, out float logprob, out int count);
        Assert.Equal(5, count);
        Assert.Equal(expectedLogits[token] - logZ, logprob, 4);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(top[i], alternatives[i].TokenId);
            Assert.Equal(expectedLogits[top[i]] - logZ, alternatives[i].Logprob, 4);
        }
    }

    [Fact]
    public void InvalidSettingsAndInputsAreRejectedWithTheirName()
    {
        Assert.Equal("TopP", Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingOptions { TopP = 0f }, 10)).ParamName);
        Assert.Equal("TopLogprobs", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { TopLogprobs = 21 }.Validate()).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sampler(new SamplingOptions { LogitBias = new Dictionary<int, float> { [10] = 1f } }, 10));
        var sampler = new Sampler(new SamplingOptions { PresencePenalty = 1f }, 4);
        Assert.Throws<ArgumentException>(() => sampler.Sample(new float[5], []));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Sample(new float[4], [7]));
        Assert.Throws<ArgumentException>(() => sampler.Sample([0f, float.NaN, 1f, 2f], []));
    }
}
