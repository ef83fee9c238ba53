using System.Runtime.CompilerServices;
using StepSharp.Kernels.Dot;
using StepSharp.Tensors;

namespace StepSharp.Kernels;

/// <summary>
/// y = x · Wᵀ for a block of weight rows: <c>y[t, r] = dot(W[rowStart + r], x[t])</c> for t &lt; n tokens,
/// with the weights used in place (mapped GGUF memory) and never dequantized to a row buffer.
/// <list type="bullet">
/// <item>Decode (fewer tokens than a micro-tile is wide): rows are split among the pool's threads and each row
/// is streamed once through its fused dot-product kernel (<see cref="Kernels.RowDot"/>); this is bound by memory
/// bandwidth, so the kernels only have to decode faster than DRAM delivers.</item>
/// <item>Prefill: rows are taken four at a time and K in panels of <see cref="PanelValues"/>; a panel of the
/// four rows is decoded once into an L1 tile (F32 rows are used directly) and applied to every token by the
/// 4-row register micro-kernel (<see cref="MatMulTile"/>), so decoding is amortised over all tokens and the
/// inner loop is bound by FMA throughput.</item>
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
    private const int RowsPerPrefillChunk = 4 * MatMulTile.Rows;

    [ThreadStatic] private static MatMulJob? t_job;

    /// <param name="weights">Weight tensor whose rows have <c>Ne0 == inputs</c> elements.</param>
    /// <param name="rowStart">First weight row (e.g. expert e of a 3-D tensor starts at e·rowsPerExpert).</param>
    /// <param name="rows">Number of weight rows = outputs per token.</param>
    /// <param name="x">n input vectors, row-major [n, Ne0].</param>
    /// <param name="y">n output vectors, row-major [n, rows].</param>
    public static void Compute(KernelThreadPool pool, in TensorView weights, long rowStart, int rows, ReadOnlySpan<float> x, int n, Span<float> y) =>
        Compute(pool, weights, rowStart, rows, x, n, y, KernelIsa.Current);

    /// <summary>As <see cref="Compute(KernelThreadPool, in TensorView, long, int, ReadOnlySpan{float}, int, Span{float})"/> on a given tier.</summary>
    public static void Compute(KernelThreadPool pool, in TensorView weights, long rowStart, int rows, ReadOnlySpan<float> x, int n, Span<float> y, Isa isa)
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

        var job = t_job ??= new MatMulJob();
        fixed (float* px = x)
        fixed (float* py = y)
        {
            job.Type = weights.Type;
            job.Isa = isa;
            job.Base = weights.Data + rowStart * weights.RowByteLength;
            job.RowBytes = weights.RowByteLength;
            job.Rows = rows;
            job.Inputs = (int)inputs;
            job.X = px;
            job.Y = py;
            job.N = n;
            job.Kernel = Kernels.RowDot.Kernel(weights.Type);
            job.Tiled = MatMulTile.Tokens(isa) > 1 && n >= MatMulTile.Tokens(isa);
            if (job.Tiled)
            {
                job.RowsPerChunk = RowsPerPrefillChunk;
            }
            else
            {
                // A few chunks per thread so a thread slowed by a neighbour does not hold up the others.
                int chunks = Math.Max(1, Math.Min((rows + MinRowsPerDecodeChunk - 1) / MinRowsPerDecodeChunk, pool.ThreadCount * 8));
                // A multiple of 4: the int8 Q8_0 kernel takes rows four at a time.
                job.RowsPerChunk = ((rows + chunks - 1) / chunks + 3) & ~3;
            }
            job.QuantizedActivations = (weights.Type is GgmlType.Q8_0 or GgmlType.Q4_K or GgmlType.Q6_K) && ActivationQuantization.AppliesTo(job.Tiled);
            if (job.QuantizedActivations) job.Tiled = false; // as llama.cpp: a quantized dot per row and token whatever the batch
            bool sums = !job.Tiled && !job.QuantizedActivations && Kernels.RowDot.NeedsGroupSums(weights.Type);
            job.GroupsPerToken = sums ? job.Inputs / 32 : 0;
            fixed (float* ps = sums ? job.GroupSums(n) : null)
            fixed (sbyte* pq = job.QuantizedActivations ? job.Quantize(n) : null)
            fixed (float* pd = job.QuantizedActivations ? job.Scales : null)
            fixed (short* pb = job.QuantizedActivations ? job.BlockSums : null)
            {
                job.XSums = ps;
                job.Qx = pq;
                job.Dx = pd;
                job.Bsums = pb;
                pool.Run(job, (rows + job.RowsPerChunk - 1) / job.RowsPerChunk);
                job.XSums = null;
                job.Qx = null;
                job.Dx = null;
                job.Bsums = null;
            }
            job.X = null;
            job.Y = null;
            job.Base = null;
        }
    }

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
        return Kernels.RowDot.Compute(weights.Type, weights.Row(row), x);
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
        public float* Dx;                        // their block scales: N × ScalesPerToken
        public short* Bsums;                     // Q8_K only: N × Inputs/16 sums of 16 int8 values
        public int ScalesPerToken;               // Inputs/32 (Q8_0 blocks) or Inputs/256 (Q8_K blocks)
        private sbyte[] _qx = [];
        public float[] Scales = [];
        public short[] BlockSums = [];

        [ThreadStatic] private static float[]? t_tile;

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
        /// K-quants (<see cref="Q8KActivations"/>). Scales go to <see cref="Scales"/>, sums to <see cref="BlockSums"/>.
        /// </summary>
        public sbyte[] Quantize(int n)
        {
            bool perK = Type != GgmlType.Q8_0;
            ScalesPerToken = Inputs / (perK ? Q8KActivations.BlockValues : 32);
            int sumsPerToken = perK ? Inputs / 16 : 0;
            if (_qx.Length < n * Inputs) _qx = new sbyte[Math.Max(n * Inputs, 2 * _qx.Length)];
            if (Scales.Length < n * ScalesPerToken) Scales = new float[Math.Max(n * ScalesPerToken, 2 * Scales.Length)];
            if (BlockSums.Length < n * sumsPerToken) BlockSums = new short[Math.Max(n * sumsPerToken, 2 * BlockSums.Length)];
            fixed (sbyte* pq = _qx)
            fixed (float* pd = Scales)
            fixed (short* pb = BlockSums)
                for (int t = 0; t < n; t++)
                {
                    if (perK) Q8KActivations.Quantize(X + (long)t * Inputs, Inputs, pq + (long)t * Inputs, pd + (long)t * ScalesPerToken, pb + (long)t * sumsPerToken);
                    else Q8Activations.Quantize(X + (long)t * Inputs, Inputs, pq + (long)t * Inputs, pd + (long)t * ScalesPerToken);
                }
            return _qx;
        }

        public void Execute(int chunk)
        {
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
                ExecuteQuantizedRows(r0, r1);
                return;
            }
            for (int r = r0; r < r1; r++)
            {
                byte* row = Base + r * RowBytes;
                for (int t = 0; t < N; t++)
                    Y[(long)t * Rows + r] = Kernel(Isa, row, X + (long)t * Inputs, XSums + (long)t * GroupsPerToken, Inputs);
            }
        }

        /// <summary>Integer dot products against the int8 activations; Q8_0 rows go four at a time on the vector tiers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ExecuteQuantizedRows(int r0, int r1)
        {
            for (int t = 0; t < N; t++)
            {
                sbyte* qx = Qx + (long)t * Inputs;
                float* dx = Dx + (long)t * ScalesPerToken;
                short* bs = Bsums + (long)t * (Inputs / 16);
                float* y = Y + (long)t * Rows;
                int r = r0;
                if (Type == GgmlType.Q8_0)
                {
                    if (Isa != Isa.Scalar)
                        for (; r + 4 <= r1; r += 4) Q8Activations.Avx2Rows4(Base + r * RowBytes, RowBytes, qx, dx, Inputs, y + r);
                    for (; r < r1; r++) y[r] = Q8Activations.Dot(Isa, Base + r * RowBytes, qx, dx, Inputs);
                }
                else if (Type == GgmlType.Q6_K)
                {
                    if (Isa == Isa.Avx512)
                        for (; r + 4 <= r1; r += 4) Q6_KQ8Dot.Avx512Rows4(Base + r * RowBytes, RowBytes, qx, dx, bs, Inputs, y + r);
                    else if (Isa == Isa.Avx2)
                        for (; r + 4 <= r1; r += 4) Q6_KQ8Dot.Avx2Rows4(Base + r * RowBytes, RowBytes, qx, dx, bs, Inputs, y + r);
                    for (; r < r1; r++) y[r] = Q6_KQ8Dot.Dot(Isa, Base + r * RowBytes, qx, dx, bs, Inputs);
                }
                else
                {
                    if (Isa != Isa.Scalar)
                        for (; r + 4 <= r1; r += 4) Q4_KQ8Dot.Avx2Rows4(Base + r * RowBytes, RowBytes, qx, dx, bs, Inputs, y + r);
                    for (; r < r1; r++) y[r] = Q4_KQ8Dot.Dot(Isa, Base + r * RowBytes, qx, dx, bs, Inputs);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ExecuteTiled(int r0, int r1)
        {
            float[] tile = t_tile ??= GC.AllocateUninitializedArray<float>(MatMulTile.Rows * PanelValues, pinned: true);
            int tokensPerTile = MatMulTile.Tokens(Isa);
            bool direct = Type == GgmlType.F32;
            fixed (float* tp = tile)
            {
                for (int q = r0; q < r1; q += MatMulTile.Rows)
                {
                    int quadRows = Math.Min(MatMulTile.Rows, r1 - q);
                    // Per-token stores, not Span.Clear: 4 floats per token, a call each cost ~3 % of a prefill.
                    for (int t = 0; t < N; t++)
                    {
                        float* yt = Y + (long)t * Rows + q;
                        if (quadRows == MatMulTile.Rows) System.Runtime.Intrinsics.Vector128.Store(System.Runtime.Intrinsics.Vector128<float>.Zero, yt);
                        else for (int r = 0; r < quadRows; r++) yt[r] = 0;
                    }
                    for (int k0 = 0; k0 < Inputs; k0 += PanelValues)
                    {
                        int len = Math.Min(PanelValues, Inputs - k0);
                        float* w;
                        long wStride;
                        if (direct)
                        {
                            w = (float*)(Base + q * RowBytes) + k0;
                            wStride = RowBytes / sizeof(float);
                        }
                        else
                        {
                            for (int r = 0; r < quadRows; r++)
                                WeightPanel.Decode(Type, Base + (q + r) * RowBytes, k0, len, tp + r * len, Isa);
                            w = tp;
                            wStride = len;
                        }
                        ApplyPanel(w, wStride, quadRows, k0, len, q, tokensPerTile);
                    }
                }
            }
        }

        /// <summary>Adds one panel's contribution for all tokens: full tiles through the micro-kernel, edges one dot at a time.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ApplyPanel(float* w, long wStride, int quadRows, int k0, int len, int q, int tokensPerTile)
        {
            int t = 0;
            if (quadRows == MatMulTile.Rows)
            {
                for (; t + tokensPerTile <= N; t += tokensPerTile)
                    MatMulTile.Accumulate(Isa, w, wStride, X + (long)t * Inputs + k0, Inputs, len, Y + (long)t * Rows + q, Rows);
            }
            for (; t < N; t++)
            {
                float* xt = X + (long)t * Inputs + k0;
                for (int r = 0; r < quadRows; r++)
                    Y[(long)t * Rows + q + r] += FloatDot.F32(Isa, (byte*)(w + r * wStride), xt, null, len);
            }
        }
    }
}
