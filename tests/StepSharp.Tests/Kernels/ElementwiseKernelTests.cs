using StepSharp.Kernels;
using StepSharp.Models.Step35;

namespace StepSharp.Tests.Kernels;

/// <summary>Each kernel against a plain double-precision evaluation of its formula.</summary>
public class ElementwiseKernelTests
{
    private static float[] RandomVector(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return v;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(128)]
    [InlineData(4096)]
    public void RmsNormMatchesFormula(int n)
    {
        float[] x = RandomVector(n, n, 50f), w = RandomVector(n, n + 1);
        var y = new float[n];
        RmsNorm.Apply(x, w, y, 1e-5f);
        double ms = 0;
        foreach (float v in x) ms += (double)v * v;
        double inv = 1 / Math.Sqrt(ms / n + 1e-5);
        for (int i = 0; i < n; i++) Assert.Equal(x[i] * inv * w[i], y[i], 1e-4 * Math.Max(1, Math.Abs(x[i] * inv * w[i])));
    }

    [Theory]
    [InlineData(RopeStyle.Neox, 32, 16, 1e4, 0)]
    [InlineData(RopeStyle.Neox, 32, 32, 1e4, 37)]
    [InlineData(RopeStyle.Interleaved, 8, 8, 1e4, 5)]
    [InlineData(RopeStyle.Neox, 128, 64, 5e6, 200_000)]
    public void RopeRotatesThePairsByTheirAngle(RopeStyle style, int headDim, int rotary, double theta, int position)
    {
        const int heads = 3;
        float[] x = RandomVector(heads * headDim, position + headDim);
        float[] y = (float[])x.Clone();
        new RotaryEmbedding(rotary, theta, style).Apply(y, heads, headDim, position);
        for (int h = 0; h < heads; h++)
        {
            int o = h * headDim;
            for (int i = 0; i < rotary / 2; i++)
            {
                double angle = position * Math.Pow(theta, -2.0 * i / rotary);
                int a = style == RopeStyle.Neox ? i : 2 * i, b = style == RopeStyle.Neox ? i + rotary / 2 : 2 * i + 1;
                double ea = x[o + a] * Math.Cos(angle) - x[o + b] * Math.Sin(angle);
                double eb = x[o + b] * Math.Cos(angle) + x[o + a] * Math.Sin(angle);
                Assert.Equal(ea, y[o + a], 1e-5);
                Assert.Equal(eb, y[o + b], 1e-5);
            }
            for (int d = rotary; d < headDim; d++) Assert.Equal(x[o + d], y[o + d]); // partial rotary: the rest passes through
        }
    }

    [Fact]
    public void RopeAnglesAreCachedPerFrequencySetAndPosition()
    {
        // The per-thread angle cache holds four entries keyed by (frequencies, position): embeddings alike share one,
        // others (theta, factors, size) must never pick up a neighbour's angles, and five sets overflow the cache.
        float[] factors = new float[32];
        for (int i = 0; i < factors.Length; i++) factors[i] = 1 + i % 3;
        var ropes = new (RotaryEmbedding Rope, double Theta, float[]? Factors)[]
        {
            (new RotaryEmbedding(64, 1e4, RopeStyle.Neox), 1e4, null),
            (new RotaryEmbedding(64, 5e5, RopeStyle.Neox), 5e5, null),
            (new RotaryEmbedding(64, 1e4, RopeStyle.Neox), 1e4, null),
            (new RotaryEmbedding(64, 1e4, RopeStyle.Neox, factors), 1e4, factors),
            (new RotaryEmbedding(32, 1e4, RopeStyle.Neox), 1e4, null),
            (new RotaryEmbedding(64, 7e3, RopeStyle.Neox), 7e3, null),
        };
        const int headDim = 64, heads = 2;
        foreach (int position in new[] { 9, 9, 10, 9, 123_457, 10 })
            for (int r = 0; r < ropes.Length; r++)
            {
                var (rope, theta, f) = ropes[(r * 5 + position) % ropes.Length];
                float[] x = RandomVector(heads * headDim, position + r), y = (float[])x.Clone();
                rope.Apply(y, heads, headDim, position);
                int half = rope.RotaryDims / 2;
                for (int h = 0; h < heads; h++)
                    for (int i = 0; i < half; i++)
                    {
                        double angle = position * Math.Pow(theta, -2.0 * i / rope.RotaryDims) / (f?[i] ?? 1);
                        int a = h * headDim + i, b = a + half;
                        Assert.Equal(x[a] * Math.Cos(angle) - x[b] * Math.Sin(angle), y[a], 1e-5);
                        Assert.Equal(x[b] * Math.Cos(angle) + x[a] * Math.Sin(angle), y[b], 1e-5);
                    }
            }
    }

    [Fact]
    public void Llama3FactorsFollowTheThreeBands()
    {
        // θ = 5e6, R = 64, factor 2, low 1, high 32, original 131072 (spec §1.1 / §2.3).
        float[] f = RotaryEmbedding.Llama3Factors(64, 5e6, 2.0, 1.0, 32.0, 131072);
        for (int i = 0; i < f.Length; i++)
        {
            double wavelen = 2 * Math.PI / Math.Pow(5e6, -2.0 * i / 64);
            if (wavelen < 131072 / 32.0) Assert.Equal(1f, f[i]);
            else if (wavelen > 131072) Assert.Equal(2f, f[i]);
            else Assert.InRange(f[i], 1f, 2f);
        }
        Assert.Equal(1f, f[0]);
        Assert.Equal(2f, f[^1]);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1.5f)]
    [InlineData(7f)]
    public void SwiGluClampsGateAfterSiluAndUpSymmetrically(float limit)
    {
        // 67 values: eight-lane vectors and a scalar tail; the ends of the float range where exp(−g) over- or underflows.
        float[] gate = RandomVector(67, 3, 12f), up = RandomVector(67, 4, 12f);
        gate[5] = -200f; gate[6] = 200f; gate[66] = -200f; gate[65] = 200f;
        float[] y = (float[])gate.Clone();
        SwiGlu.Apply(y, up, limit);
        for (int i = 0; i < gate.Length; i++)
        {
            double silu = gate[i] / (1 + Math.Exp(-gate[i]));
            double u = up[i];
            if (limit > 0) { silu = Math.Min(silu, limit); u = Math.Clamp(u, -limit, limit); }
            Assert.Equal(silu * u, y[i], 1e-5 * Math.Max(1, Math.Abs(silu * u)));
        }
    }

    [Fact]
    public void TopKPicksTheLargestInOrderWithStableTies()
    {
        float[] scores = [0.5f, 0.9f, 0.1f, 0.9f, 0.7f, float.NaN, 0.3f];
        var top = new int[3];
        Step35Moe.SelectTopK(scores, top);
        Assert.Equal([1, 3, 4], top);
        var rng = new Random(5);
        for (int trial = 0; trial < 200; trial++)
        {
            float[] s = RandomVector(288, trial);
            var k8 = new int[8];
            Step35Moe.SelectTopK(s, k8);
            int[] expected = Enumerable.Range(0, s.Length).OrderByDescending(i => s[i]).ThenBy(i => i).Take(8).ToArray();
            Assert.Equal(expected, k8);
        }
    }
}
