using StepSharp.Kernels;

namespace StepSharp.Models.Common;

/// <summary>
/// softmax(q·kᵀ / √dh) · v for every (token, head) of a step against one layer's KV cache, with a causal
/// mask and, on sliding layers, the window (spec §2.2 step 5). Query head h reads KV head h / (H / Hkv).
/// A work item is a block of consecutive rows of one sequence (a prefill chunk; a single row when decoding)
/// and one KV head: each cached key and value is read (and, for F16/Q8_0 caches, decoded) once for the block's
/// rows and the group of query heads sharing that KV head. Every (row, head) still sees its keys in position
/// order, so the result does not depend on how rows are blocked. Scores live in per-thread scratch.
/// </summary>
internal sealed unsafe class CausalAttention : IParallelJob
{
    /// <summary>
    /// Most rows a block holds: as many as keep the block's queries (rows × group × head_dim floats) within
    /// <see cref="QueryBytesPerBlock"/>, i.e. in L1 while every key passes them, and fewer when the scores of a block
    /// would exceed <see cref="MaxBlockScores"/>. Measured on the mini shape (group 8–12, head_dim 128), Q4_K_M
    /// pp2048 on 2 threads against one row per item: 4 rows +11 %, 8 rows +4 %, 16 rows −6 %.
    /// </summary>
    private const int MaxBlockRows = 16;
    private const int QueryBytesPerBlock = 24 * 1024;
    private const int MaxBlockScores = 1 << 21;   // 8 MB of per-thread scores at most

    private StepRows? _rows;
    private int _cacheIndex;
    private float* _query;
    private float* _output;
    private int _heads, _kvHeads, _blocks;
    private int[] _blockStart = new int[1];

    [ThreadStatic] private static float[]? t_scores;
    [ThreadStatic] private static float[]? t_tile;

    /// <summary>Keys or values decoded per tile: 16 positions × head_dim floats (8 KB at head_dim 128; 64 positions, 32 KB, crowded L1 and made decode at depth 4096 ~13 % slower).</summary>
    private const int TilePositions = 16;

    /// <summary>How many tiles ahead of the one being decoded <see cref="PrefetchTile"/> asks for.</summary>
    private const int PrefetchTiles = 4;

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
            FormBlocks(rows, heads / kvHeads);
            pool.Run(this, _blocks * kvHeads);
            _query = _output = null;
            _rows = null;
        }
    }

    /// <summary>Splits the step's rows into runs of one sequence at consecutive positions (block b is rows _blockStart[b]..[b+1]).</summary>
    private void FormBlocks(StepRows rows, int group)
    {
        if (_blockStart.Length < rows.Count + 1) _blockStart = new int[Math.Max(rows.Count + 1, 2 * _blockStart.Length)];
        _blocks = 0;
        int t = 0;
        while (t < rows.Count)
        {
            _blockStart[_blocks++] = t;
            LayerKvCache cache = rows.Sequences[t].Caches[_cacheIndex];
            int maxRows = Math.Clamp(QueryBytesPerBlock / (group * cache.HeadDim * sizeof(float)), 1, MaxBlockRows);
            int end = t + 1;
            while (end < rows.Count && end - t < maxRows
                   && rows.Sequences[end] == rows.Sequences[t] && rows.Positions[end] == rows.Positions[end - 1] + 1
                   && (long)(end + 1 - t) * group * VisibleCount(cache, rows.Positions[end]) <= MaxBlockScores)
                end++;
            t = end;
        }
        _blockStart[_blocks] = rows.Count;
    }

    private static int VisibleCount(LayerKvCache cache, int position) => position - cache.FirstVisible(position) + 1;

    public void Execute(int index)
    {
        StepRows rows = _rows!;
        int block = index / _kvHeads, kvHead = index % _kvHeads;
        int t0 = _blockStart[block], t1 = _blockStart[block + 1];
        LayerKvCache cache = rows.Sequences[t0].Caches[_cacheIndex];
        int dh = cache.HeadDim, group = _heads / _kvHeads, firstHead = kvHead * group;
        float scale = 1f / MathF.Sqrt(dh);

        // Row t sees positions first(t)..position(t); both grow with t, so the block spans first(t0)..position(t1 − 1).
        int firstOfBlock = cache.FirstVisible(rows.Positions[t0]), lastOfBlock = rows.Positions[t1 - 1];
        int total = 0;
        for (int t = t0; t < t1; t++) total += group * VisibleCount(cache, rows.Positions[t]);
        float[] scores = t_scores is { } s && s.Length >= total ? s : (t_scores = new float[Math.Max(total, 4096)]);
        float[] tile = t_tile is { } r && r.Length >= TilePositions * dh ? r : (t_tile = new float[TilePositions * Math.Max(dh, 128)]);

        fixed (float* sc = scores)
        fixed (float* tp = tile)
        {
            // Scores, a tile of keys at a time: the tile is decoded once for all rows and heads of the block.
            Sweep(values: false, rows, t0, t1, cache, kvHead, firstHead, group, firstOfBlock, lastOfBlock, sc, tp, scale);
            float* softmaxScores = sc;
            for (int t = t0; t < t1; t++)
            {
                int count = VisibleCount(cache, rows.Positions[t]);
                for (int g = 0; g < group; g++)
                {
                    var p = new Span<float>(softmaxScores + g * count, count);
                    Activations.SoftMax(p, p);
                }
                softmaxScores += group * count;
                new Span<float>(_output + ((long)t * _heads + firstHead) * dh, group * dh).Clear();
            }
            // Weighted values, a tile at a time, positions in ascending order for every output.
            Sweep(values: true, rows, t0, t1, cache, kvHead, firstHead, group, firstOfBlock, lastOfBlock, sc, tp, scale);
        }
    }

    /// <summary>
    /// One pass over positions first..last in tiles of <see cref="TilePositions"/>: each tile of keys (or values) is
    /// decoded once, then every row of the block applies the part of it that row sees, for each of its heads —
    /// scores = q·k·scale for keys, output += score·v for values.
    /// </summary>
    private void Sweep(bool values, StepRows rows, int t0, int t1, LayerKvCache cache, int kvHead, int firstHead, int group,
        int firstOfBlock, int lastOfBlock, float* scores, float* tile, float scale)
    {
        int dh = cache.HeadDim;
        for (int ahead = 1; ahead < PrefetchTiles; ahead++) PrefetchTile(values, cache, kvHead, firstOfBlock + ahead * TilePositions, lastOfBlock);
        for (int jt = firstOfBlock; jt <= lastOfBlock; jt += TilePositions)
        {
            PrefetchTile(values, cache, kvHead, jt + PrefetchTiles * TilePositions, lastOfBlock);
            int jn = Math.Min(TilePositions, lastOfBlock - jt + 1);
            // The tile's keys (values) are stored back to back unless a sliding layer's ring wraps inside it.
            for (int j = 0; j < jn;)
            {
                int run = Math.Min(jn - j, cache.ContiguousFrom(jt + j));
                DecodeHeads(cache, values ? cache.ValueBytes(jt + j, kvHead, run) : cache.KeyBytes(jt + j, kvHead, run), tile + j * dh);
                j += run;
            }
            float* rowScores = scores;
            for (int t = t0; t < t1; t++)
            {
                int position = rows.Positions[t], first = cache.FirstVisible(position), count = position - first + 1;
                int lo = Math.Max(jt, first), hi = Math.Min(jt + jn - 1, position);
                if (lo <= hi)
                {
                    long head = ((long)t * _heads + firstHead) * dh;
                    float* seen = tile + (lo - jt) * dh;
                    // The row's heads of this KV head: queries (outputs) dh apart, their scores count apart.
                    float* s = rowScores + lo - first;
                    if (values) HeadVectors.AccumulateWeighted(_output + head, group, s, count, seen, dh, hi - lo + 1);
                    else HeadVectors.Scores(_query + head, group, seen, dh, hi - lo + 1, s, count, scale);
                }
                rowScores += group * count;
            }
        }
    }

    /// <summary>
    /// Asks for the keys (values) of the tile at <paramref name="first"/> (if it is part of the sweep) to be brought
    /// into L2: left to the hardware, a cache the weights of the other layers pushed out of L3 arrived at ~12 GB/s,
    /// the attention waiting on each tile's first touch. `quick attention 4096` (one full layer of the mini shape,
    /// cold cache, medians of 40 calls, two alternating series): 923–1320 µs without, 744–776 with prefetcht1 two or
    /// four tiles ahead (hot 560–660 either way); prefetcht0 (into L1, 64 lines at once) was slower than none.
    /// </summary>
    private static void PrefetchTile(bool values, LayerKvCache cache, int kvHead, int first, int lastOfBlock)
    {
        if (first > lastOfBlock || !System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        int run = Math.Min(Math.Min(TilePositions, lastOfBlock - first + 1), cache.ContiguousFrom(first));
        ReadOnlySpan<byte> stored = values ? cache.ValueBytes(first, kvHead, run) : cache.KeyBytes(first, kvHead, run);
        fixed (byte* p = stored)
            for (int at = 0; at < stored.Length; at += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch1(p + at);
    }

    /// <summary>Cached heads at consecutive positions, back to back, as f32 into <paramref name="destination"/> (head_dim values each).</summary>
    private static void DecodeHeads(LayerKvCache cache, ReadOnlySpan<byte> stored, float* destination)
    {
        fixed (byte* p = stored)
        {
            switch (cache.Type)
            {
                case KvCacheType.F16 when cache.HoldsOnlyFinite:
                    HeadVectors.FiniteHalfToSingle((ushort*)p, destination, stored.Length / 2);
                    break;
                case KvCacheType.F16:
                    HeadVectors.HalfToSingle((ushort*)p, destination, stored.Length / 2);
                    break;
                case KvCacheType.F32:
                    Buffer.MemoryCopy(p, destination, stored.Length, stored.Length);
                    break;
                default:
                    // Q8_0 rows back to back are one Q8_0 row: prefill's vector decoder (the scalar reference here was ~4×
                    // slower than the F16 path at depth).
                    int values = stored.Length / LayerKvCache.HeadBytes(KvCacheType.Q8_0, cache.HeadDim) * cache.HeadDim;
                    WeightPanel.Decode(Tensors.GgmlType.Q8_0, p, 0, 0, values, destination, KernelIsa.Current);
                    break;
            }
        }
    }
}
