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

    [Fact]
    public void F16CacheKnowsWhenItStoredAnInfinity()
    {
        var cache = new LayerKvCache(2, 32, contextLength: 8, window: 0, maxBatchTokens: 1, KvCacheType.F16);
        var row = new float[64];
        Array.Fill(row, 65504f);   // the largest finite fp16
        cache.Write(0, row, row);
        Assert.True(cache.HoldsOnlyFinite);
        row[40] = 70000f;           // rounds to fp16 inf (head 1 of the value)
        cache.Write(1, new float[64], row);
        Assert.False(cache.HoldsOnlyFinite);
        Assert.Equal(float.PositiveInfinity, cache.Value(1, 1, new float[32])[8]);
        cache.Write(2, new float[64], new float[64]);
        Assert.False(cache.HoldsOnlyFinite);   // stays: the inf is still stored
    }

    [Fact]
    public void EachHeadsPositionsAreStoredBackToBackUntilTheRingWraps()
    {
        var cache = new LayerKvCache(2, 32, contextLength: 1000, window: 8, maxBatchTokens: 1, KvCacheType.F32);
        Assert.Equal(8, cache.Capacity);
        for (int p = 0; p < 12; p++)
        {
            var key = new float[64];
            for (int h = 0; h < 2; h++) key[h * 32] = 100 * h + p;   // first value of each head's key: its head and position
            cache.Write(p, key, key);
        }
        Assert.Equal(8, cache.ContiguousFrom(8));   // position 8 in slot 0: slots 0..7 follow each other
        Assert.Equal(2, cache.ContiguousFrom(6));   // slots 6, 7, then the ring goes back to slot 0
        ReadOnlySpan<float> run = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(cache.KeyBytes(9, 1, 3));
        Assert.Equal(new float[] { 109, 110, 111 }, new[] { run[0], run[32], run[64] });
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.KeyBytes(6, 0, 3).Length);   // 6, 7 then the ring wraps
    }
}
