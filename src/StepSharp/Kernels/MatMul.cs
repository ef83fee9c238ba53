using System.Runtime.CompilerServices;
using StepSharp.Kernels.Dot;
using StepSharp.Tensors;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Kernels;

/// <summary>
/// y = x · Wᵀ for a block of weight rows: <c>y[t, r] = dot(W[rowStart + r], x[t])</c> for t &lt; n tokens,
/// with the weights used in place (mapped GGUF memory) and never dequantized to a row buffer.
/// <list type="bullet">
/// <item>Decode (fewer tokens than a micro-tile is wide): rows are split among the pool's threads and each row
/// is streamed once through its fused dot-product kernel (<see cref="Kernels.RowDot"/>); this is bound by memory
/// bandwidth, so the kernels only have to decode faster than DRAM delivers.</item>
/// <item>Prefill: a work item takes 64 rows and K in panels of <see cref="PanelValues"/>; the item's panel is
/// decoded once (F32 rows are used directly) and applied to the tokens, 64 at a time, by the 4-row register
/// micro-kernel (<see cref="MatMulTile"/>), so decoding is amortised over all tokens, a token block's activations
/// stay in L2 for all the item's rows, and the inner loop is bound by FMA throughput.</item>
/// </list>
/// Results equal the "dequantize then F32" reference up to the order of additions (testdata q8_0-deq-f32).
/// Types without a fused kernel fall back to <see cref="DequantizingMatMul"/>. With
/// <see cref="ActivationQuantization"/> on, Q8_0 and Q4_K weights use int8 activations and integer dot products instead.
/// </summary>
public static unsafe class MatMul
{
    /// <summary>K-panel length: a 4-row tile is 16 KB and a token's slice 4 KB, both L1-resident; a multiple of 256 (K-quant blocks).</summary>
    public const int PanelValues = 1024;

    private const int MinRowsPerDecodeChunk = 16;
    /// <summary>Rows a prefill work item takes: its decoded panel (≤ 256 KB) and a token block's slices stay in L2 together.</summary>
    private const int RowsPerPrefillChunk = 16 * MatMulTile.Rows;

    /// <summary>Tokens whose panel slices (64 × 4 KB) are reused by every 4-row tile of a prefill work item before the next block.</summary>
    private const int PrefillTokenBlock = 64;

    [ThreadStatic] private static MatMulJob? t_job;

    /// <param name="weights">Weight tensor whose rows have <c>Ne0 == inputs</c> elements.</param>
    /// <param name="rowStart">First weight row (e.g. expert e of a 3-D tensor starts at e·rowsPerExpert).</param>
    /// <param name="rows">Number of weight rows = outputs per token.</param>
    /// <param name="x">n input vectors, row-major [n, Ne0].</param>
    /// <param name="y">n output vectors, row-major [n, rows].</param>
    public static void Compute(KernelThreadPool pool, in TensorView weights, long rowStart, int rows, ReadOnlySpan<float> x, int n, Span<float> y) =>
        Compute(pool, weights, rowStart, rows, x, n, y, KernelIsa.Current);

    /// <summary>As <see cref="Compute(KernelThreadPool, in TensorView, long, int, ReadOnlySpan{float}, int, Span{float})"/> on a given tier.</summary>
    public static void Compute(KernelThreadPool pool, in TensorView weights, long rowStart, int rows, ReadOnlySpan<float> x, int n, Span<float> y, Isa isa) =>
        Compute(pool, weights, rowStart, rows, x, n, y, isa, null);

    /// <summary>
    /// One decode vector's product with rows [rowStart, rowStart + rows) of <paramref name="weights"/>, reading the int8
    /// copy <paramref name="x"/> already holds for the weights' kernels instead of quantizing again (the float path, or
    /// quantizing here, when it holds none for this type). Equal to the float-input overload's result.
    /// </summary>
    public static void Compute(KernelThreadPool pool, in TensorView weights, long rowStart, int rows, DecodeActivations x, Span<float> y) =>
        Compute(pool, weights, rowStart, rows, x.Values, 1, y, KernelIsa.Current, x);

    private static void Compute(KernelThreadPool pool, in TensorView weights, long rowStart, int rows, ReadOnlySpan<float> x, int n, Span<float> y, Isa isa, DecodeActivations? quantized)
    {
        if (!Kernels.RowDot.Supports(weights.Type))
        {
            DequantizingMatMul.Compute(pool, weights, rowStart, rows, x, n, y);
            return;
        }
        if (!KernelIsa.IsSupported(isa)) throw new PlatformNotSupportedException($"this machine supports kernels up to {KernelIsa.Best}, not {isa}");
        long inputs = weights.Ne0;
        if (rowStart < 0 || rowStart + rows > weights.RowCount)
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows {rowStart}..{rowStart + rows} outside tensor '{weights.Name}' with {weights.RowCount} rows");
        if (x.Length < n * inputs) throw new ArgumentException($"input holds {x.Length} values, {n}×{inputs} needed for '{weights.Name}'");
        if (y.Length < n * rows) throw new ArgumentException($"output holds {y.Length} values, {n}×{rows} needed for '{weights.Name}'");
        if (rows <= 0 || n <= 0) return;
        if (!weights.IsContiguous && rowStart % weights.MatrixRows + rows > weights.MatrixRows)
            throw new ArgumentException($"rows {rowStart}..{rowStart + rows} of '{weights.Name}' span two of its matrices, which are not adjacent in memory", nameof(rows));
        if (GgmlTypeInfo.IsInMemoryLayout(weights.Type) && rowStart % InMemoryLayouts.GroupRows != 0)
            throw new ArgumentException($"tensor '{weights.Name}' ({weights.Type}) keeps rows in groups of {InMemoryLayouts.GroupRows}; row {rowStart} does not start one", nameof(rowStart));

        var job = t_job ??= new MatMulJob();
        fixed (float* px = x)
        fixed (float* py = y)
        {
            job.SegmentCount = 0;
            job.Type = weights.Type;
            job.Isa = isa;
            job.Base = weights.Data + weights.RowOffset(rowStart);
            job.RowBytes = weights.RowByteLength;
            job.Rows = rows;
            job.Inputs = (int)inputs;
            job.X = px;
            job.Y = py;
            job.N = n;
            job.Kernel = GgmlTypeInfo.IsInMemoryLayout(weights.Type) ? null : Kernels.RowDot.Kernel(weights.Type);
            job.Tiled = UsesTiles(isa, n);
            if (job.Tiled)
            {
                job.RowsPerChunk = RowsPerPrefillChunk;
            }
            else
            {
                job.RowsPerChunk = DecodeRowsPerChunk(rows, pool.ThreadCount);
            }
            job.QuantizedActivations = Int8Blocks(weights.Type) != 0 && ActivationQuantization.AppliesTo(job.Tiled);
            if (job.QuantizedActivations) job.Tiled = false; // as llama.cpp: a quantized dot per row and token whatever the batch
            bool sums = !job.Tiled && !job.QuantizedActivations && Kernels.RowDot.NeedsGroupSums(weights.Type);
            job.GroupsPerToken = sums ? job.Inputs / 32 : 0;
            if (job.QuantizedActivations) job.SetInt8Activations(n, quantized);
            fixed (float* ps = sums ? job.GroupSums(n) : null)
            {
                job.XSums = ps;
                pool.Run(job, (rows + job.RowsPerChunk - 1) / job.RowsPerChunk);
                job.XSums = null;
                job.ClearInt8Activations();
            }
            job.X = null;
            job.Y = null;
            job.Base = null;
        }
    }

    /// <summary>
    /// y_i = x · W_iᵀ for two to four whole weight matrices that read the same input (attention's query, key, value
    /// and head-gate projections; an FFN's gate and up), results equal to separate <see cref="Compute(KernelThreadPool, in TensorView, long, int, ReadOnlySpan{float}, int, Span{float})"/>
    /// calls. When all of them take int8 decode activations of one kind (Q8_0 blocks, or Q8_K for the K-quants), the
    /// input is quantized once and their rows are shared out in one fork/join: a decode step's key, value and gate
    /// matrices are small enough (the mini model's 9–215 KB) that a fork/join each cost as much as their rows.
    /// Otherwise (prefill, float activations, mixed kinds) the matrices run one after another.
    /// </summary>
    public static void ComputeSameInput(KernelThreadPool pool, ReadOnlySpan<float> x, int n, in TensorView w0, Span<float> y0, in TensorView w1, Span<float> y1) =>
        ComputeSameInput(pool, x, n, 2, w0, y0, w1, y1, default, default, default, default);

    /// <inheritdoc cref="ComputeSameInput(KernelThreadPool, ReadOnlySpan{float}, int, in TensorView, Span{float}, in TensorView, Span{float})"/>
    public static void ComputeSameInput(KernelThreadPool pool, ReadOnlySpan<float> x, int n, in TensorView w0, Span<float> y0, in TensorView w1, Span<float> y1, in TensorView w2, Span<float> y2) =>
        ComputeSameInput(pool, x, n, 3, w0, y0, w1, y1, w2, y2, default, default);

    /// <inheritdoc cref="ComputeSameInput(KernelThreadPool, ReadOnlySpan{float}, int, in TensorView, Span{float}, in TensorView, Span{float})"/>
    public static void ComputeSameInput(KernelThreadPool pool, ReadOnlySpan<float> x, int n, in TensorView w0, Span<float> y0, in TensorView w1, Span<float> y1, in TensorView w2, Span<float> y2, in TensorView w3, Span<float> y3) =>
        ComputeSameInput(pool, x, n, 4, w0, y0, w1, y1, w2, y2, w3, y3);

    private static void ComputeSameInput(KernelThreadPool pool, ReadOnlySpan<float> x, int n, int count,
        in TensorView w0, Span<float> y0, in TensorView w1, Span<float> y1, in TensorView w2, Span<float> y2, in TensorView w3, Span<float> y3)
    {
        Isa isa = KernelIsa.Current;
        bool shared = n > 0 && !UsesTiles(isa, n) && ActivationQuantization.AppliesTo(tiled: false)
            && w0.RowCount > 0 && SharesDecodeActivations(w0, w1)
            && (count < 3 || SharesDecodeActivations(w0, w2)) && (count < 4 || SharesDecodeActivations(w0, w3));
        if (!shared)
        {
            Compute(pool, w0, 0, (int)w0.RowCount, x, n, y0, isa, null);
            Compute(pool, w1, 0, (int)w1.RowCount, x, n, y1, isa, null);
            if (count > 2) Compute(pool, w2, 0, (int)w2.RowCount, x, n, y2, isa, null);
            if (count > 3) Compute(pool, w3, 0, (int)w3.RowCount, x, n, y3, isa, null);
            return;
        }
        long inputs = w0.Ne0;
        if (x.Length < n * inputs) throw new ArgumentException($"input holds {x.Length} values, {n}×{inputs} needed for '{w0.Name}'");
        var job = t_job ??= new MatMulJob();
        fixed (float* px = x)
        fixed (float* p0 = y0) fixed (float* p1 = y1) fixed (float* p2 = y2) fixed (float* p3 = y3)
        {
            job.Isa = isa;
            job.Type = w0.Type;
            job.Inputs = (int)inputs;
            job.X = px;
            job.N = n;
            job.Tiled = false;
            job.QuantizedActivations = true;
            job.GroupsPerToken = 0;
            job.SegmentCount = 0;
            int chunks = 0;
            chunks = job.AddSegment(w0, p0, y0.Length, n, pool.ThreadCount, chunks);
            chunks = job.AddSegment(w1, p1, y1.Length, n, pool.ThreadCount, chunks);
            if (count > 2) chunks = job.AddSegment(w2, p2, y2.Length, n, pool.ThreadCount, chunks);
            if (count > 3) chunks = job.AddSegment(w3, p3, y3.Length, n, pool.ThreadCount, chunks);
            job.SetInt8Activations(n, null);
            pool.Run(job, chunks);
            job.ClearInt8Activations();
            job.SegmentCount = 0;
            job.X = null;
        }
    }

    /// <summary>True when <paramref name="b"/> can share <paramref name="a"/>'s int8 decode activations: the same row length and the same activation blocks.</summary>
    private static bool SharesDecodeActivations(in TensorView a, in TensorView b) =>
        b.Ne0 == a.Ne0 && b.RowCount > 0 && Int8Blocks(a.Type) != 0 && Int8Blocks(b.Type) == Int8Blocks(a.Type);

    /// <summary>The int8 activation blocks a type's decode kernels take: 32 (Q8_0), 256 (Q8_K, the K-quants), or 0 for float activations.</summary>
    internal static int Int8Blocks(GgmlType type) => type switch
    {
        GgmlType.Q8_0 or GgmlType.Q8_0Grouped => 32,
        GgmlType.Q4_K or GgmlType.Q4_KInterleaved or GgmlType.Q6_K or GgmlType.Q6_KInterleaved => 256,
        _ => 0,
    };

    /// <summary>True for the interleaved layouts, whose kernels read the Q8_K activations permuted (<see cref="Q4_KInterleavedQ8Dot.PermuteActivations"/>).</summary>
    internal static bool TakesPermutedActivations(GgmlType type) => type is GgmlType.Q4_KInterleaved or GgmlType.Q6_KInterleaved;

    /// <summary>True when n tokens go through the register-tiled prefill path on <paramref name="isa"/>.</summary>
    private static bool UsesTiles(Isa isa, int n) => MatMulTile.Tokens(isa) > 1 && n >= MatMulTile.Tokens(isa);

    /// <summary>
    /// dot(weight row <paramref name="row"/>, x) for one row (routers, tests): the fused kernel of
    /// <see cref="Kernels.RowDot"/>, or dequantize-then-dot for types without one.
    /// </summary>
    public static float RowDot(in TensorView weights, long row, ReadOnlySpan<float> x)
    {
        if (!Kernels.RowDot.Supports(weights.Type))
        {
            float[] scratch = new float[weights.Ne0];   // rare types only; not a hot path
            weights.DequantizeRow(row, scratch);
            return System.Numerics.Tensors.TensorPrimitives.Dot(scratch, x);
        }
        if (GgmlTypeInfo.IsInMemoryLayout(weights.Type))
        {
            // A kernel layout's row is not one span: its blocks take turns with three other rows'.
            if (x.Length != weights.Ne0) throw new ArgumentException($"x has {x.Length} values, rows of '{weights.Name}' have {weights.Ne0}", nameof(x));
            return Kernels.RowDot.Compute(weights.Type, weights.RowPointer(row), x, KernelIsa.Current, InMemoryLayouts.RowInGroup(row));
        }
        return Kernels.RowDot.Compute(weights.Type, weights.Row(row), x);
    }

    /// <summary>Rows per work item of a decode matmul: a few chunks per thread, so a thread slowed by a neighbour does not hold up the others; a multiple of 4, as the int8 kernels take rows four at a time.</summary>
    private static int DecodeRowsPerChunk(int rows, int threads)
    {
        int chunks = Math.Max(1, Math.Min((rows + MinRowsPerDecodeChunk - 1) / MinRowsPerDecodeChunk, threads * 8));
        return ((rows + chunks - 1) / chunks + 3) & ~3;
    }

    private sealed class MatMulJob : IParallelJob
    {
        public GgmlType Type;
        public Isa Isa;
        public byte* Base;
        public long RowBytes;
        public int Rows, Inputs, N, RowsPerChunk;
        public bool Tiled;
        public float* X, Y;
        public delegate*<Isa, byte*, float*, float*, int, float> Kernel;
        public float* XSums;                     // N × Inputs/32 group sums for the K-quant kernels, else null
        public int GroupsPerToken;
        private float[] _xSums = [];
        public bool QuantizedActivations;
        public sbyte* Qx;                        // N × Inputs int8 activations (QuantizedActivations only)
        public sbyte* QxPermuted;                // the same for the interleaved layouts' rows (null when no matrix is in one)
        public float* Dx;                        // their block scales: N × ScalesPerToken
        public short* Bsums;                     // Q8_K only: N × Inputs/16 sums of 16 int8 values
        public int ScalesPerToken;               // Inputs/32 (Q8_0 blocks) or Inputs/256 (Q8_K blocks)
        // Pinned (PinnedArrays), so their addresses can be kept in the pointers above.
        private sbyte[]? _qx, _permutedQx;
        private float[]? _scales;
        private short[]? _blockSums;

        [ThreadStatic] private static float[]? t_tile;

        /// <summary>One of the matrices of a <see cref="ComputeSameInput(KernelThreadPool, ReadOnlySpan{float}, int, in TensorView, Span{float}, in TensorView, Span{float})"/> call, with its share of the chunks.</summary>
        private struct Segment
        {
            public GgmlType Type;
            public byte* Base;
            public long RowBytes;
            public int Rows, RowsPerChunk, FirstChunk;
            public float* Y;
        }

        private readonly Segment[] _segments = new Segment[4];
        public int SegmentCount;                 // 0: the single matrix of the fields above

        /// <summary>Adds a whole matrix as the next segment, its chunks numbered from <paramref name="firstChunk"/>; returns the next free chunk number.</summary>
        public int AddSegment(in TensorView w, float* y, int yLength, int n, int threads, int firstChunk)
        {
            int rows = (int)w.RowCount;
            if (yLength < n * rows) throw new ArgumentException($"output holds {yLength} values, {n}×{rows} needed for '{w.Name}'");
            if (!w.IsContiguous) throw new ArgumentException($"'{w.Name}' has its matrices spread out; take one matrix at a time");
            int rowsPerChunk = DecodeRowsPerChunk(rows, threads);
            _segments[SegmentCount++] = new Segment { Type = w.Type, Base = w.Data, RowBytes = w.RowByteLength, Rows = rows, RowsPerChunk = rowsPerChunk, FirstChunk = firstChunk, Y = y };
            return firstChunk + (rows + rowsPerChunk - 1) / rowsPerChunk;
        }

        /// <summary>Fills the per-token group sums of X (computed once here, read by every row's kernel).</summary>
        public float[] GroupSums(int n)
        {
            int needed = n * GroupsPerToken;
            if (_xSums.Length < needed) _xSums = new float[Math.Max(needed, 2 * _xSums.Length)];
            fixed (float* ps = _xSums)
                for (int t = 0; t < n; t++)
                    Widen.GroupSums32(X + (long)t * Inputs, Inputs, ps + (long)t * GroupsPerToken);
            return _xSums;
        }

        /// <summary>
        /// Rounds every token's X to the weight type's vec_dot_type as llama.cpp does: Q8_0 blocks of 32 for
        /// Q8_0 weights (<see cref="Q8Activations"/>), Q8_K blocks of 256 with their 16-value sums for the
        /// K-quants (<see cref="Q8KActivations"/>), into the job's pinned buffers, and points <see cref="Qx"/>,
        /// <see cref="Dx"/> and <see cref="Bsums"/> at them; when a matrix is in an interleaved K-quant layout, the values
        /// also go permuted to <see cref="QxPermuted"/> (the other K-quant matrices of a shared-input call keep reading
        /// the plain copy).
        /// </summary>
        public void Quantize(int n)
        {
            bool perK = Int8Blocks(Type) == Q8KActivations.BlockValues;
            ScalesPerToken = Inputs / (perK ? Q8KActivations.BlockValues : 32);
            int sumsPerToken = perK ? Inputs / 16 : 0;
            PinnedArrays.Grow(ref _qx, n * Inputs);
            PinnedArrays.Grow(ref _scales, n * ScalesPerToken);
            PinnedArrays.Grow(ref _blockSums, n * sumsPerToken);
            bool permutes = TakesPermutedActivations(Type);
            for (int i = 0; i < SegmentCount; i++) permutes |= TakesPermutedActivations(_segments[i].Type);
            if (permutes) PinnedArrays.Grow(ref _permutedQx, n * Inputs);
            sbyte* pq = PinnedArrays.Pointer(_qx!), pp = permutes ? PinnedArrays.Pointer(_permutedQx!) : null;
            float* pd = PinnedArrays.Pointer(_scales!);
            short* pb = PinnedArrays.Pointer(_blockSums!);
            for (int t = 0; t < n; t++)
            {
                if (perK) Q8KActivations.Quantize(X + (long)t * Inputs, Inputs, pq + (long)t * Inputs, pd + (long)t * ScalesPerToken, pb + (long)t * sumsPerToken);
                else Q8Activations.Quantize(X + (long)t * Inputs, Inputs, pq + (long)t * Inputs, pd + (long)t * ScalesPerToken);
                if (permutes) Q4_KInterleavedQ8Dot.PermuteActivations(pq + (long)t * Inputs, pp + (long)t * Inputs, Inputs);
            }
            Point(pq, pp, pd, pb);
        }

        /// <summary>
        /// Points <see cref="Qx"/>, <see cref="QxPermuted"/>, <see cref="Dx"/> and <see cref="Bsums"/> at X rounded to
        /// int8: the copy <paramref name="ready"/> holds when it suits every matrix of the job (one token; one kind of
        /// blocks, with the permuted values if a matrix needs them), else one quantized here (<see cref="Quantize"/>).
        /// </summary>
        public void SetInt8Activations(int n, DecodeActivations? ready)
        {
            if (n == 1 && ready is not null && ready.TryGet(Type, out sbyte* q, out sbyte* permuted, out float* scales, out short* sums))
            {
                bool suitsAll = true;
                for (int i = 0; i < SegmentCount; i++) suitsAll &= ready.TryGet(_segments[i].Type, out _, out _, out _, out _);
                if (suitsAll)
                {
                    ScalesPerToken = Inputs / Int8Blocks(Type);
                    Point(q, permuted, scales, sums);
                    return;
                }
            }
            Quantize(n);
        }

        public void ClearInt8Activations() => Point(null, null, null, null);

        private void Point(sbyte* q, sbyte* permuted, float* scales, short* sums)
        {
            Qx = q;
            QxPermuted = permuted;
            Dx = scales;
            Bsums = sums;
        }

        public void Execute(int chunk)
        {
            if (SegmentCount > 0)
            {
                int i = SegmentCount - 1;
                while (_segments[i].FirstChunk > chunk) i--;
                ref readonly Segment seg = ref _segments[i];
                int s0 = (chunk - seg.FirstChunk) * seg.RowsPerChunk;
                ExecuteQuantizedRows(seg.Type, seg.Base, seg.RowBytes, seg.Rows, seg.Y, s0, Math.Min(seg.Rows, s0 + seg.RowsPerChunk));
                return;
            }
            int r0 = chunk * RowsPerChunk;
            int r1 = Math.Min(Rows, r0 + RowsPerChunk);
            if (Tiled) ExecuteTiled(r0, r1);
            else ExecuteRows(r0, r1);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ExecuteRows(int r0, int r1)
        {
            if (QuantizedActivations)
            {
                ExecuteQuantizedRows(Type, Base, RowBytes, Rows, Y, r0, r1);
                return;
            }
            bool layout = GgmlTypeInfo.IsInMemoryLayout(Type);
            for (int r = r0; r < r1; r++)
            {
                byte* row = Base + InMemoryLayouts.RowStart(Type, r, RowBytes);
                for (int t = 0; t < N; t++)
                    Y[(long)t * Rows + r] = layout
                        ? InterleavedDot.Compute(Type, Isa, row, InMemoryLayouts.RowInGroup(r), X + (long)t * Inputs, XSums + (long)t * GroupsPerToken, Inputs)
                        : Kernel(Isa, row, X + (long)t * Inputs, XSums + (long)t * GroupsPerToken, Inputs);
            }
        }

        /// <summary>Integer dot products against the int8 activations; Q8_0 rows go four at a time on the vector tiers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ExecuteQuantizedRows(GgmlType type, byte* weights, long rowBytes, int rows, float* output, int r0, int r1)
        {
            // The kernel layouts' vector kernels take all of the range's whole row groups in one call (r0 starts one).
            int groups = Isa != Isa.Scalar && GgmlTypeInfo.IsInMemoryLayout(type) ? (r1 - r0) / 4 : 0;
            byte* firstGroup = weights + r0 * rowBytes;
            for (int t = 0; t < N; t++)
            {
                sbyte* qx = Qx + (long)t * Inputs;
                float* dx = Dx + (long)t * ScalesPerToken;
                short* bs = Bsums + (long)t * (Inputs / 16);
                float* y = output + (long)t * rows;
                int r = r0;
                if (type == GgmlType.Q8_0Grouped)
                {
                    if (groups > 0) Q8_0GroupedQ8Dot.Avx2Groups(firstGroup, 4 * rowBytes, groups, qx, dx, Inputs, y + r);
                    for (r += 4 * groups; r < r1; r++) y[r] = Q8_0GroupedQ8Dot.Dot(Isa, weights + InMemoryLayouts.RowOffset(type, r, rowBytes), qx, dx, Inputs);
                }
                else if (type == GgmlType.Q8_0)
                {
                    if (Isa != Isa.Scalar)
                        for (; r + 4 <= r1; r += 4) Q8Activations.Avx2Rows4(weights + r * rowBytes, rowBytes, qx, dx, Inputs, y + r);
                    for (; r < r1; r++) y[r] = Q8Activations.Dot(Isa, weights + r * rowBytes, qx, dx, Inputs);
                }
                else if (type == GgmlType.Q6_K)
                {
                    if (Isa == Isa.Avx512)
                        for (; r + 4 <= r1; r += 4) Q6_KQ8Dot.Avx512Rows4(weights + r * rowBytes, rowBytes, qx, dx, bs, Inputs, y + r);
                    else if (Isa == Isa.Avx2)
                        for (; r + 4 <= r1; r += 4) Q6_KQ8Dot.Avx2Rows4(weights + r * rowBytes, rowBytes, qx, dx, bs, Inputs, y + r);
                    for (; r < r1; r++) y[r] = Q6_KQ8Dot.Dot(Isa, weights + r * rowBytes, qx, dx, bs, Inputs);
                }
                else if (type == GgmlType.Q6_KInterleaved)
                {
                    sbyte* qp = QxPermuted + (long)t * Inputs;
                    if (groups > 0) Q6_KInterleavedQ8Dot.Avx2Groups(firstGroup, 4 * rowBytes, groups, qp, dx, bs, Inputs, y + r);
                    for (r += 4 * groups; r < r1; r++) y[r] = Q6_KInterleavedQ8Dot.Dot(Isa, weights + InMemoryLayouts.RowOffset(type, r, rowBytes), qp, dx, bs, Inputs);
                }
                else if (type == GgmlType.Q4_KInterleaved)
                {
                    sbyte* qp = QxPermuted + (long)t * Inputs;
                    if (groups > 0) Q4_KInterleavedQ8Dot.Avx2Groups(firstGroup, 4 * rowBytes, groups, qp, dx, bs, Inputs, y + r);
                    for (r += 4 * groups; r < r1; r++) y[r] = Q4_KInterleavedQ8Dot.Dot(Isa, weights + InMemoryLayouts.RowOffset(type, r, rowBytes), InMemoryLayouts.RowInGroup(r), qp, dx, bs, Inputs);
                }
                else
                {
                    if (Isa != Isa.Scalar)
                        for (; r + 4 <= r1; r += 4) Q4_KQ8Dot.Avx2Rows4(weights + r * rowBytes, rowBytes, qx, dx, bs, Inputs, y + r);
                    for (; r < r1; r++) y[r] = Q4_KQ8Dot.Dot(Isa, weights + r * rowBytes, qx, dx, bs, Inputs);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ExecuteTiled(int r0, int r1)
        {
            float[] tile = t_tile ??= GC.AllocateUninitializedArray<float>(RowsPerPrefillChunk * PanelValues, pinned: true);
            int tokensPerTile = MatMulTile.Tokens(Isa);
            bool direct = Type == GgmlType.F32;
            int chunkRows = r1 - r0;
            // Per-token stores, not Span.Clear: a few floats per token, a call each cost ~3 % of a prefill.
            for (int t = 0; t < N; t++)
            {
                float* yt = Y + (long)t * Rows + r0;
                int r = 0;
                for (; r + 4 <= chunkRows; r += 4) System.Runtime.Intrinsics.Vector128.Store(System.Runtime.Intrinsics.Vector128<float>.Zero, yt + r);
                for (; r < chunkRows; r++) yt[r] = 0;
            }
            fixed (float* tp = tile)
            {
                for (int k0 = 0; k0 < Inputs; k0 += PanelValues)
                {
                    int len = Math.Min(PanelValues, Inputs - k0);
                    // The chunk's rows of this panel, decoded once (F32 rows are used in place).
                    float* w;
                    long wStride;
                    if (direct)
                    {
                        w = (float*)(Base + r0 * RowBytes) + k0;
                        wStride = RowBytes / sizeof(float);
                    }
                    else
                    {
                        for (int r = 0; r < chunkRows; r++)
                            WeightPanel.Decode(Type, Base + InMemoryLayouts.RowStart(Type, r0 + r, RowBytes), InMemoryLayouts.RowInGroup(r0 + r), k0, len, tp + r * len, Isa);
                        w = tp;
                        wStride = len;
                    }
                    // Tokens in blocks whose panel slices stay in L2 while every 4-row tile of the chunk uses them:
                    // sweeping all N tokens per tile streamed the whole activation matrix (2 MB at 512 tokens) from
                    // L3 once per tile, which is what kept two threads from scaling.
                    for (int t0 = 0; t0 < N; t0 += PrefillTokenBlock)
                    {
                        int t1 = Math.Min(N, t0 + PrefillTokenBlock);
                        for (int q = 0; q < chunkRows; q += MatMulTile.Rows)
                            ApplyPanel(w + q * wStride, wStride, Math.Min(MatMulTile.Rows, chunkRows - q), k0, len, r0 + q, t0, t1, tokensPerTile);
                    }
                }
            }
        }

        /// <summary>Adds one panel's contribution of a ≤ 4-row tile for tokens t0..t1: full tiles through the micro-kernel, edges one dot at a time.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ApplyPanel(float* w, long wStride, int quadRows, int k0, int len, int q, int t0, int t1, int tokensPerTile)
        {
            int t = t0;
            if (quadRows == MatMulTile.Rows)
            {
                for (; t + tokensPerTile <= t1; t += tokensPerTile)
                    MatMulTile.Accumulate(Isa, w, wStride, X + (long)t * Inputs + k0, Inputs, len, Y + (long)t * Rows + q, Rows);
            }
            for (; t < t1; t++)
            {
                float* xt = X + (long)t * Inputs + k0;
                for (int r = 0; r < quadRows; r++)
                    Y[(long)t * Rows + q + r] += FloatDot.F32(Isa, (byte*)(w + r * wStride), xt, null, len);
            }
        }
    }
}
