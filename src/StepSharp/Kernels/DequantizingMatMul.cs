using System.Numerics.Tensors;
using StepSharp.Tensors;

namespace StepSharp.Kernels;

/// <summary>
/// The original y = x · Wᵀ: each quantized row is dequantized into a per-thread scratch row, then dotted in
/// F32 with TensorPrimitives. Kept as the fallback for types without a fused kernel (Q4_1, Q5_1, Q2_K,
/// Q3_K, Q8_K) and as the baseline the benchmarks compare <see cref="MatMul"/> with. Same contract as
/// <see cref="MatMul.Compute"/>.
/// </summary>
public static unsafe class DequantizingMatMul
{
    private const int MinRowsPerChunk = 16;

    [ThreadStatic] private static MatMulJob? t_job;

    /// <param name="weights">Weight tensor whose rows have <c>Ne0 == inputs</c> elements.</param>
    /// <param name="rowStart">First weight row (e.g. expert e of a 3-D tensor starts at e·rowsPerExpert).</param>
    /// <param name="rows">Number of weight rows = outputs per token.</param>
    /// <param name="x">n input vectors, row-major [n, Ne0].</param>
    /// <param name="y">n output vectors, row-major [n, rows].</param>
    public static void Compute(KernelThreadPool pool, in TensorView weights, long rowStart, int rows, ReadOnlySpan<float> x, int n, Span<float> y)
    {
        long inputs = weights.Ne0;
        if (rowStart < 0 || rowStart + rows > weights.RowCount)
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows {rowStart}..{rowStart + rows} outside tensor '{weights.Name}' with {weights.RowCount} rows");
        if (x.Length < n * inputs) throw new ArgumentException($"input holds {x.Length} values, {n}×{inputs} needed for '{weights.Name}'");
        if (y.Length < n * rows) throw new ArgumentException($"output holds {y.Length} values, {n}×{rows} needed for '{weights.Name}'");

        var job = t_job ??= new MatMulJob();
        fixed (float* px = x)
        fixed (float* py = y)
        {
            job.Weights = weights;
            job.RowStart = rowStart;
            job.Rows = rows;
            job.Inputs = (int)inputs;
            job.X = px;
            job.Y = py;
            job.N = n;
            int chunks = Math.Max(1, Math.Min((rows + MinRowsPerChunk - 1) / MinRowsPerChunk, pool.ThreadCount * 8));
            job.RowsPerChunk = (rows + chunks - 1) / chunks;
            pool.Run(job, (rows + job.RowsPerChunk - 1) / job.RowsPerChunk);
            job.X = null;
            job.Y = null;
        }
    }

    private sealed class MatMulJob : IParallelJob
    {
        public TensorView Weights;
        public long RowStart;
        public int Rows, Inputs, N, RowsPerChunk;
        public float* X, Y;

        [ThreadStatic] private static float[]? t_scratch;

        public static Span<float> Scratch(int length)
        {
            var s = t_scratch;
            if (s is null || s.Length < length) t_scratch = s = new float[length];
            return s.AsSpan(0, length);
        }

        public void Execute(int chunk)
        {
            int r0 = chunk * RowsPerChunk;
            int r1 = Math.Min(Rows, r0 + RowsPerChunk);
            int inputs = Inputs;
            bool isF32 = Weights.Type == GgmlType.F32;
            Span<float> scratch = isF32 ? default : Scratch(inputs);
            for (int r = r0; r < r1; r++)
            {
                long row = RowStart + r;
                ReadOnlySpan<float> w;
                if (isF32)
                {
                    w = new ReadOnlySpan<float>(Weights.Data + row * Weights.RowByteLength, inputs);
                }
                else
                {
                    Weights.DequantizeRow(row, scratch);
                    w = scratch;
                }
                for (int t = 0; t < N; t++)
                    Y[(long)t * Rows + r] = TensorPrimitives.Dot(w, new ReadOnlySpan<float>(X + (long)t * inputs, inputs));
            }
        }
    }
}
