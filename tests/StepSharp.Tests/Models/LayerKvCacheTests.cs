using StepSharp.Models.Common;

namespace StepSharp.Tests.Models;

public class LayerKvCacheTests
{
    [Theory]
    [InlineData(KvCacheType.F32, 0.0)]
    [InlineData(KvCacheType.F16, 1e-3)]     // binary16: 11 significant bits → relative error ≤ 2^-11
    [InlineData(KvCacheType.Q8_0, (0.5 + 127.0 / 2048) / 127)] // Q8_0: half a step d = max/127, plus 127 × the F16 rounding of d
    public void RowsRoundTripWithinTheTypesPrecision(KvCacheType type, double relative)
    {
        const int kvHeads = 2, dh = 64;
        var cache = new LayerKvCache(kvHeads, dh, contextLength: 16, window: 0, maxBatchTokens: 1, type);
        var rng = new Random(3);
        var k = new float[kvHeads * dh];
        var v = new float[kvHeads * dh];
        for (int i = 0; i < k.Length; i++) { k[i] = (float)(rng.NextDouble() * 6 - 3); v[i] = (float)(rng.NextDouble() * 2 - 1); }
        cache.Write(5, k, v);
        var scratch = new float[dh];
        for (int h = 0; h < kvHeads; h++)
        {
            var key = cache.Key(5, h, scratch).ToArray();
            var value = cache.Value(5, h, scratch).ToArray();
            for (int i = 0; i < dh; i++)
            {
                float kMax = 0, vMax = 0;
                for (int j = (i / 32) * 32; j < (i / 32) * 32 + 32; j++) { kMax = Math.Max(kMax, Math.Abs(k[h * dh + j])); vMax = Math.Max(vMax, Math.Abs(v[h * dh + j])); }
                double kTol = type == KvCacheType.Q8_0 ? relative * kMax * 1.01 : relative * Math.Abs(k[h * dh + i]);
                double vTol = type == KvCacheType.Q8_0 ? relative * vMax * 1.01 : relative * Math.Abs(v[h * dh + i]);
                Assert.True(Math.Abs(key[i] - k[h * dh + i]) <= kTol + 1e-7, $"{type} key head {h} [{i}]: {key[i]} vs {k[h * dh + i]}");
                Assert.True(Math.Abs(value[i] - v[h * dh + i]) <= vTol + 1e-7, $"{type} value head {h} [{i}]: {value[i]} vs {v[h * dh + i]}");
            }
        }
    }

    [Fact]
    public void SlidingLayersKeepARingOfWindowPlusBatchMinusOne()
    {
        var cache = new LayerKvCache(1, 32, contextLength: 1000, window: 8, maxBatchTokens: 4, KvCacheType.F32);
        Assert.Equal(11, cache.Capacity);
        Assert.Equal(3, cache.FirstVisible(10)); // p − W < j ≤ p
        Assert.True(cache.CanRewindTo(20, 23));  // going back 3 positions keeps the window
        Assert.False(cache.CanRewindTo(10, 23));
    }
}
