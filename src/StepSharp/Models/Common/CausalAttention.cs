using System.Numerics.Tensors;
using StepSharp.Kernels;

namespace StepSharp.Models.Common;

/// <summary>
/// softmax(q·kᵀ / √dh) · v for every (token, head) of a step against one layer's KV cache, with a causal
/// mask and, on sliding layers, the window (spec §2.2 step 5). Query head h reads KV head h / (H / Hkv).
/// A work item is one token's group of query heads sharing a KV head, so each cached key and value is read
/// (and, for F16/Q8_0 caches, decoded) once for the whole group. Scores live in per-thread scratch.
/// </summary>
internal sealed unsafe class CausalAttention : IParallelJob
{
    private StepRows? _rows;
    private int _cacheIndex;
    private float* _query;
    private float* _output;
    private int _heads, _kvHeads;

    [ThreadStatic] private static float[]? t_scores;
    [ThreadStatic] private static float[]? t_row;

    /// <summary>Row t of the step attends with its sequence's <c>Caches[cacheIndex]</c> at <c>rows.Positions[t]</c>.</summary>
    public void Compute(KernelThreadPool pool, StepRows rows, int cacheIndex, ReadOnlySpan<float> query, Span<float> output, int heads, int kvHeads)
    {
        fixed (float* q = query)
        fixed (float* o = output)
        {
            _rows = rows;
            _cacheIndex = cacheIndex;
            _query = q;
            _output = o;
            _heads = heads;
            _kvHeads = kvHeads;
            pool.Run(this, rows.Count * kvHeads);
            _query = _output = null;
            _rows = null;
        }
    }

    public void Execute(int index)
    {
        StepRows rows = _rows!;
        int t = index / _kvHeads, kvHead = index % _kvHeads;
        LayerKvCache cache = rows.Sequences[t].Caches[_cacheIndex];
        int dh = cache.HeadDim, group = _heads / _kvHeads, firstHead = kvHead * group;
        int position = rows.Positions[t];
        float scale = 1f / MathF.Sqrt(dh);

        int first = cache.FirstVisible(position);
        int count = position - first + 1;
        float[] scores = t_scores is { } s && s.Length >= group * count ? s : (t_scores = new float[Math.Max(group * count, 4096)]);
        float[] row = t_row is { } r && r.Length >= dh ? r : (t_row = new float[Math.Max(dh, 256)]);

        float* q = _query + ((long)t * _heads + firstHead) * dh;
        float* o = _output + ((long)t * _heads + firstHead) * dh;
        fixed (float* sc = scores)
        fixed (float* scratch = row)
        {
            for (int j = 0; j < count; j++)
            {
                float* key = Head(cache, cache.KeyBytes(first + j, kvHead), scratch);
                for (int g = 0; g < group; g++)
                    sc[g * count + j] = HeadVectors.Dot(q + g * dh, key, dh) * scale;
            }
            for (int g = 0; g < group; g++)
            {
                Span<float> p = scores.AsSpan(g * count, count);
                TensorPrimitives.SoftMax(p, p);
            }
            new Span<float>(o, group * dh).Clear();
            for (int j = 0; j < count; j++)
            {
                float* value = Head(cache, cache.ValueBytes(first + j, kvHead), scratch);
                for (int g = 0; g < group; g++)
                    HeadVectors.MultiplyAdd(value, sc[g * count + j], o + g * dh, dh);
            }
        }
    }

    /// <summary>One cached head as f32: F32 rows in place (the cache's arrays are pinned), F16 and Q8_0 rows decoded into <paramref name="scratch"/>.</summary>
    private static float* Head(LayerKvCache cache, ReadOnlySpan<byte> stored, float* scratch)
    {
        int dh = cache.HeadDim;
        fixed (byte* p = stored)
        {
            switch (cache.Type)
            {
                case KvCacheType.F16:
                    HeadVectors.HalfToSingle((ushort*)p, scratch, dh);
                    return scratch;
                case KvCacheType.F32:
                    return (float*)p;
                default:
                    Tensors.Dequantize.Row(Tensors.GgmlType.Q8_0, stored, new Span<float>(scratch, dh));
                    return scratch;
            }
        }
    }
}
