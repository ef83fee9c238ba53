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
        for (int j = 0; j < count; j++)
        {
            ReadOnlySpan<float> key = cache.Key(first + j, kvHead, row);
            for (int g = 0; g < group; g++)
                scores[g * count + j] = TensorPrimitives.Dot(new ReadOnlySpan<float>(q + g * dh, dh), key) * scale;
        }
        for (int g = 0; g < group; g++)
        {
            Span<float> p = scores.AsSpan(g * count, count);
            TensorPrimitives.SoftMax(p, p);
        }
        float* o = _output + ((long)t * _heads + firstHead) * dh;
        new Span<float>(o, group * dh).Clear();
        for (int j = 0; j < count; j++)
        {
            ReadOnlySpan<float> value = cache.Value(first + j, kvHead, row);
            for (int g = 0; g < group; g++)
            {
                var oh = new Span<float>(o + g * dh, dh);
                TensorPrimitives.MultiplyAdd(value, scores[g * count + j], oh, oh);
            }
        }
    }
}
