using StepSharp.Kernels;
using StepSharp.Models.Common;
using StepSharp.Tests.Kernels;

namespace StepSharp.Tests.Models;

/// <summary>
/// Blocked attention (a work item per run of consecutive rows and KV head) gives, bit for bit, what attending
/// one row at a time gives, on full and sliding-window caches of every KV type.
/// </summary>
public class CausalAttentionTests
{
    [Theory]
    [InlineData(KvCacheType.F32, 0)]
    [InlineData(KvCacheType.F16, 0)]
    [InlineData(KvCacheType.F16, 5)]
    [InlineData(KvCacheType.Q8_0, 0)]
    public void BlockedRowsEqualOneRowAtATime(KvCacheType type, int window)
    {
        const int heads = 6, kvHeads = 2, dh = 32, rows = 11, context = 64;
        float[] query = RandomWeights.Vector(rows * heads * dh, seed: 1);
        float[] keys = RandomWeights.Vector(rows * kvHeads * dh, seed: 2), values = RandomWeights.Vector(rows * kvHeads * dh, seed: 3);
        var dims = new ForwardDimensions(Hidden: 64, MaxQueryWidth: heads * dh, MaxKvWidth: kvHeads * dh, MaxHeads: heads, MaxFeedForward: 64);
        using var pool = new KernelThreadPool(2);

        float[] Run(bool together)
        {
            var cache = new LayerKvCache(kvHeads, dh, context, window, rows, type);
            var sequence = new SequenceState(this, [cache], new ForwardBuffers(dims, rows), context);
            for (int p = 0; p < rows; p++) cache.Write(p, keys.AsSpan(p * kvHeads * dh, kvHeads * dh), values.AsSpan(p * kvHeads * dh, kvHeads * dh));
            var output = new float[rows * heads * dh];
            var attention = new CausalAttention();
            var step = new StepRows(rows);
            if (together)
            {
                for (int p = 0; p < rows; p++) step.AddAt(sequence, 0, p);
                attention.Compute(pool, step, 0, query, output, heads, kvHeads);
            }
            else
            {
                for (int p = 0; p < rows; p++)
                {
                    step.Clear();
                    step.AddAt(sequence, 0, p);
                    attention.Compute(pool, step, 0, query.AsSpan(p * heads * dh, heads * dh), output.AsSpan(p * heads * dh, heads * dh), heads, kvHeads);
                }
            }
            return output;
        }

        float[] blocked = Run(together: true), single = Run(together: false);
        Assert.Equal(single, blocked);
        Assert.Contains(blocked, v => v != 0);
    }

    /// <summary>
    /// Against softmax(q·k/√dh)·v in double over the cache's exactly decoded rows; and a value that became fp16 inf
    /// in the cache comes out as inf (the cheaper finite widening is only used while the cache holds no inf).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void F16AttentionMatchesTheDecodedCacheAndKeepsInfinities(bool storeInfinity)
    {
        const int heads = 4, kvHeads = 2, dh = 32, positions = 37, context = 64;
        float[] query = RandomWeights.Vector(heads * dh, seed: 11);
        var dims = new ForwardDimensions(Hidden: 64, MaxQueryWidth: heads * dh, MaxKvWidth: kvHeads * dh, MaxHeads: heads, MaxFeedForward: 64);
        using var pool = new KernelThreadPool(2);
        var cache = new LayerKvCache(kvHeads, dh, context, 0, 1, KvCacheType.F16);
        for (int p = 0; p < positions; p++)
        {
            float[] key = RandomWeights.Vector(kvHeads * dh, seed: 100 + p), value = RandomWeights.Vector(kvHeads * dh, seed: 200 + p);
            if (storeInfinity && p == 3) value[5] = 1e5f;   // KV head 0, element 5: beyond fp16's 65504
            cache.Write(p, key, value);
        }
        Assert.Equal(!storeInfinity, cache.HoldsOnlyFinite);
        var sequence = new SequenceState(this, [cache], new ForwardBuffers(dims, 1), context);
        var step = new StepRows(1);
        step.AddAt(sequence, 0, positions - 1);
        var output = new float[heads * dh];
        new CausalAttention().Compute(pool, step, 0, query, output, heads, kvHeads);

        var scratch = new float[dh];
        for (int h = 0; h < heads; h++)
        {
            int kv = h / (heads / kvHeads);
            var scores = new double[positions];
            double max = double.NegativeInfinity, sum = 0;
            for (int p = 0; p < positions; p++)
            {
                ReadOnlySpan<float> key = cache.Key(p, kv, scratch);
                double dot = 0;
                for (int i = 0; i < dh; i++) dot += (double)query[h * dh + i] * key[i];
                scores[p] = dot / Math.Sqrt(dh);
                max = Math.Max(max, scores[p]);
            }
            for (int p = 0; p < positions; p++) sum += scores[p] = Math.Exp(scores[p] - max);
            var expected = new double[dh];
            for (int p = 0; p < positions; p++)
            {
                ReadOnlySpan<float> value = cache.Value(p, kv, scratch);
                for (int i = 0; i < dh; i++) expected[i] += scores[p] / sum * value[i];
            }
            for (int i = 0; i < dh; i++)
            {
                float got = output[h * dh + i];
                if (double.IsInfinity(expected[i])) Assert.True(float.IsPositiveInfinity(got), $"head {h} [{i}]: {got}, expected inf");
                else Assert.True(Math.Abs(got - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"head {h} [{i}]: {got} vs {expected[i]}");
            }
        }
        Assert.Equal(storeInfinity, output.Any(float.IsPositiveInfinity));
    }

    /// <summary>
    /// Scores far beyond exp's range (q·k/√dh ≈ ±300 here) give the attention of the best-matching key, not NaN: a
    /// softmax without the maximum subtracted (TensorPrimitives.SoftMax) overflows to inf/inf.
    /// </summary>
    [Fact]
    public void LargeScoresStayFinite()
    {
        const int heads = 2, kvHeads = 1, dh = 16, positions = 5, context = 8;
        var dims = new ForwardDimensions(Hidden: 32, MaxQueryWidth: heads * dh, MaxKvWidth: kvHeads * dh, MaxHeads: heads, MaxFeedForward: 32);
        using var pool = new KernelThreadPool(2);
        var cache = new LayerKvCache(kvHeads, dh, context, 0, 1, KvCacheType.F32);
        for (int p = 0; p < positions; p++)
        {
            var key = new float[dh];
            var value = new float[dh];
            for (int i = 0; i < dh; i++) { key[i] = (p == 2 ? 75f : -75f) * (i % 2 == 0 ? 1 : -1); value[i] = p; }
            cache.Write(p, key, value);
        }
        var query = new float[heads * dh];
        for (int i = 0; i < query.Length; i++) query[i] = i % 2 == 0 ? 1 : -1;   // q·k = ±1200, /√16 = ±300
        var sequence = new SequenceState(this, [cache], new ForwardBuffers(dims, 1), context);
        var step = new StepRows(1);
        step.AddAt(sequence, 0, positions - 1);
        var output = new float[heads * dh];
        new CausalAttention().Compute(pool, step, 0, query, output, heads, kvHeads);
        Assert.All(output, v => Assert.Equal(2f, v));   // all weight on position 2, whose value is 2
    }
}
