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
}
