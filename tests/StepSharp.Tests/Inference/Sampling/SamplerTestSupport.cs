using StepSharp.Inference.Sampling;

namespace StepSharp.Tests.Inference.Sampling;

/// <summary>Independent (double precision, LINQ, full sort) references for the sampler tests.</summary>
internal static class SamplerTestSupport
{
    public static float[] RandomLogits(int vocab, int seed, double scale = 3.0)
    {
        var random = new Random(seed);
        var logits = new float[vocab];
        for (int i = 0; i < vocab; i++) logits[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return logits;
    }

    public static double[] Softmax(float[] logits, double temperature = 1.0)
    {
        double max = logits.Max();
        var e = logits.Select(l => Math.Exp((l - max) / temperature)).ToArray();
        double z = e.Sum();
        return e.Select(x => x / z).ToArray();
    }

    /// <summary>Ids sorted by logit descending, ties by id.</summary>
    public static int[] Ranked(float[] logits) =>
        Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).ToArray();

    public static int[] Draw(SamplingOptions options, float[] logits, int draws, int[]? history = null)
    {
        var sampler = new Sampler(options, logits.Length);
        var result = new int[draws];
        var work = new float[logits.Length];
        for (int i = 0; i < draws; i++)
        {
            logits.CopyTo(work, 0);
            result[i] = sampler.Sample(work, history ?? []);
        }
        return result;
    }

    /// <summary>Pearson chi-square statistic of observed counts against expected probabilities.</summary>
    public static double ChiSquare(int[] draws, IReadOnlyDictionary<int, double> expected)
    {
        double chi = 0;
        foreach (var (id, p) in expected)
        {
            double e = p * draws.Length;
            int observed = draws.Count(d => d == id);
            chi += (observed - e) * (observed - e) / e;
        }
        return chi;
    }
}
