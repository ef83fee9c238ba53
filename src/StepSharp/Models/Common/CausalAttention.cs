using System.Numerics.Tensors;
using StepSharp.Kernels;

namespace StepSharp.Models.Common;

/// <summary>
/// softmax(q·kᵀ / √dh) · v for every (token, head) of a step against one layer's KV cache, with a causal
/// mask and, on sliding layers, the window (spec §2.2 step 5). Query head h reads KV head h / (H / Hkv).
/// Work items are (token, head) pairs spread over the pool; scores live in a per-thread scratch row.
/// </summary>
internal sealed unsafe class CausalAttention : IParallelJob
{
    private StepRows? _rows;
    private int _cacheIndex;
    private float* _query;
    private float* _output;
    private int _heads;

    [ThreadStatic] private static float[]? t_scores;

    /// <summary>Row t of the step attends with its sequence's <c>Caches[cacheIndex]</c> at <c>rows.Positions[t]</c>.</summary>
    public void Compute(KernelThreadPool pool, StepRows rows, int cacheIndex, ReadOnlySpan<float> query, Span<float> output, int heads)
    {
        fixed (float* q = query)
        fixed (float* o = output)
        {
            _rows = rows;
            _cacheIndex = cacheIndex;
            _query = q;
            _output = o;
            _heads = heads;
            pool.Run(this, rows.Count * heads);
            _query = _output = null;
            _rows = null;
        }
    }

    public void Execute(int index)
    {
        StepRows rows = _rows!;
        int t = index / _heads, h = index % _heads;
        LayerKvCache cache = rows.Sequences[t].Caches[_cacheIndex];
        int dh = cache.HeadDim;
        int position = rows.Positions[t];
        float scale = 1f / MathF.Sqrt(dh);
        int kvHead = h / (_heads / cache.KvHeads);
        var q = new ReadOnlySpan<float>(_query + ((long)t * _heads + h) * dh, dh);
        var o = new Span<float>(_output + ((long)t * _heads + h) * dh, dh);

        int first = cache.FirstVisible(position);
        int count = position - first + 1;
        float[] scores = t_scores is { } s && s.Length >= count ? s : (t_scores = new float[Math.Max(count, 1024)]);
        for (int j = 0; j < count; j++)
            scores[j] = TensorPrimitives.Dot(q, cache.Key(first + j, kvHead)) * scale;
        Span<float> p = scores.AsSpan(0, count);
        TensorPrimitives.SoftMax(p, p);
        o.Clear();
        for (int j = 0; j < count; j++)
            TensorPrimitives.MultiplyAdd(cache.Value(first + j, kvHead), p[j], o, o);
    }
}
