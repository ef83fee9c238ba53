using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// Activations rounded to Q8_0 blocks (spec gguf-format.md §3.1) and the Q8_0 × Q8_0 integer dot product,
/// computed the way llama.cpp's CPU backend does so that logits match its Q8_0 runs: per 32 values
/// d = max|x| / 127 kept as fp16, q = round-half-even(x · 127/max|x|); the dot is
/// Σ_b (d_w·d_x) · Σ_i w_i·q_i with exact integer inner sums.
/// </summary>
internal static unsafe class Q8Activations
{
    private const int BlockValues = 32, BlockBytes = 34;

    /// <summary>Quantizes n values of x (a multiple of 32) into q[n] and d[n/32].</summary>
    public static void Quantize(float* x, int n, sbyte* q, float* d)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            QuantizeVector256(x, n, q, d);
            return;
        }
        QuantizeScalar(x, n, q, d);
    }

    /// <summary>
    /// Same arithmetic as <see cref="QuantizeScalar"/> lane-wise (max is order-independent, the multiply and
    /// the round-half-even are single IEEE operations), so the two agree bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QuantizeVector256(float* x, int n, sbyte* q, float* d)
    {
        for (int b = 0; b < n / BlockValues; b++)
        {
            float* xb = x + b * BlockValues;
            Vector256<float> v0 = Vector256.Load(xb), v1 = Vector256.Load(xb + 8), v2 = Vector256.Load(xb + 16), v3 = Vector256.Load(xb + 24);
            Vector256<float> m = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
            float max = 0;
            for (int i = 0; i < 8; i++) max = MathF.Max(max, m.GetElement(i));
            d[b] = max / 127f;   // rounded to fp16 below, for all blocks at once
            var id = Vector256.Create(max != 0 ? 127f / max : 0f);
            Vector256<int> i0 = Vector256.ConvertToInt32(Vector256.Round(v0 * id)), i1 = Vector256.ConvertToInt32(Vector256.Round(v1 * id));
            Vector256<int> i2 = Vector256.ConvertToInt32(Vector256.Round(v2 * id)), i3 = Vector256.ConvertToInt32(Vector256.Round(v3 * id));
            // |q| ≤ 127, so narrowing int32 → int16 → int8 is exact.
            Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).Store(q + b * BlockValues);
        }
        RoundToHalf(d, n / BlockValues);
    }

    /// <summary>
    /// d[i] = (float)(Half)d[i] for n scales through the vectorised span conversions (exact IEEE round-to-nearest-even
    /// both ways, like the scalar casts): one call per activation vector instead of a software Half cast per block.
    /// </summary>
    private static void RoundToHalf(float* d, int n)
    {
        Span<Half> halves = stackalloc Half[256];
        for (int start = 0; start < n; start += halves.Length)
        {
            var scales = new Span<float>(d + start, Math.Min(halves.Length, n - start));
            System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(scales, halves);
            System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(halves[..scales.Length], scales);
        }
    }

    /// <summary>The plain reference of <see cref="Quantize"/>.</summary>
    internal static void QuantizeScalar(float* x, int n, sbyte* q, float* d)
    {
        for (int b = 0; b < n / BlockValues; b++)
        {
            float* xb = x + b * BlockValues;
            float max = 0;
            for (int i = 0; i < BlockValues; i++) max = MathF.Max(max, MathF.Abs(xb[i]));
            d[b] = (float)(Half)(max / 127f);
            float id = max != 0 ? 127f / max : 0f;
            for (int i = 0; i < BlockValues; i++) q[b * BlockValues + i] = (sbyte)MathF.Round(xb[i] * id, MidpointRounding.ToEven);
        }
    }

    public static float Dot(Isa isa, byte* row, sbyte* q, float* d, int n) =>
        isa == Isa.Scalar ? Scalar(row, q, d, n) : Avx2(row, q, d, n);

    /// <summary>
    /// 32 int8 × int8 products per block with vpmaddubsw, which needs one unsigned operand: |w| times x with
    /// w's sign moved onto it. 256-bit even on AVX-512: AVX-512 has no vpsignb, and Zen 4 runs 512-bit
    /// integer ops as two 256-bit halves anyway. |w|·|x| ≤ 128·127, so the pairwise int16 sums cannot saturate.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2(byte* row, sbyte* q, float* d, int n)
    {
        // One accumulator, blocks in order, and llama.cpp's horizontal sum: the same float operations in the
        // same order as its AVX2 ggml_vec_dot_q8_0_q8_0. The int8 rounding of the next layer's activations
        // amplifies last-bit differences into whole quantisation steps, so following its order is what lets
        // the logits track llama.cpp's. The FMA latency chain (4 cycles a block) stays under the block's cost.
        Vector256<float> acc = Vector256<float>.Zero;
        int blocks = n / BlockValues, b = 0;
        for (; b + 8 <= blocks; b += 8)
        {
            // d_w·d_x of 8 blocks at once, kept in a register (see Widen.BlockScales8).
            Vector256<float> scales = Widen.BlockScales8(row + b * BlockBytes, BlockBytes) * Vector256.Load(d + b);
            for (int k = 0; k < 8; k++)
                acc = Vector256.FusedMultiplyAdd(Vector256.Create(scales.GetElement(k)), BlockSums(row + (b + k) * BlockBytes, q + (b + k) * BlockValues), acc);
        }
        for (; b < blocks; b++)
            acc = Vector256.FusedMultiplyAdd(Vector256.Create(Widen.Half(row + b * BlockBytes) * d[b]), BlockSums(row + b * BlockBytes, q + b * BlockValues), acc);
        return HorizontalSum(acc);
    }

    /// <summary>
    /// <see cref="Avx2"/> for four consecutive rows <paramref name="rowBytes"/> apart, results to y[0..4). Each row
    /// gets exactly the operations of <see cref="Avx2"/> in the same order (so the results are bit-identical to
    /// four single-row calls); interleaving them hides the 4-cycle latency of each row's one FMA chain, which
    /// bounds the single-row kernel, and loads each activation block once for four rows.
    /// </summary>
    public static void Avx2Rows4(byte* row, long rowBytes, sbyte* q, float* d, int n, float* y)
    {
        if (Widen.PrefetchesToL2(rowBytes)) Avx2Rows4<Widen.IntoL2>(row, rowBytes, q, d, n, y);
        else Avx2Rows4<Widen.IntoL1>(row, rowBytes, q, d, n, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    private static void Avx2Rows4<THint>(byte* row, long rowBytes, sbyte* q, float* d, int n, float* y) where THint : struct, Widen.IPrefetchHint
    {
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        byte* r0 = row, r1 = row + rowBytes, r2 = row + 2 * rowBytes, r3 = row + 3 * rowBytes;
        float* scales = stackalloc float[32];
        int blocks = n / BlockValues, b = 0;
        for (; b + 8 <= blocks; b += 8)
        {
            // Pointers advanced per block rather than indices scaled by 34 (an imul and sign extensions a block).
            byte* p0 = r0 + b * BlockBytes, p1 = r1 + b * BlockBytes, p2 = r2 + b * BlockBytes, p3 = r3 + b * BlockBytes;
            sbyte* qb = q + b * BlockValues;
            Vector256<float> dx = Vector256.Load(d + b);
            (Widen.BlockScales8(p0, BlockBytes) * dx).Store(scales);
            (Widen.BlockScales8(p1, BlockBytes) * dx).Store(scales + 8);
            (Widen.BlockScales8(p2, BlockBytes) * dx).Store(scales + 16);
            (Widen.BlockScales8(p3, BlockBytes) * dx).Store(scales + 24);
            byte* prefetch = r0 + 4 * rowBytes + 4L * b * BlockBytes;
            for (int k = 0; k < 8; k++, p0 += BlockBytes, p1 += BlockBytes, p2 += BlockBytes, p3 += BlockBytes, qb += BlockValues, prefetch += 4 * BlockBytes)
            {
                Vector256<sbyte> x = Vector256.Load(qb);
                Widen.PrefetchLines3<THint>(prefetch);
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Create(scales[k]), BlockSums(p0, x), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Create(scales[8 + k]), BlockSums(p1, x), acc1);
                acc2 = Vector256.FusedMultiplyAdd(Vector256.Create(scales[16 + k]), BlockSums(p2, x), acc2);
                acc3 = Vector256.FusedMultiplyAdd(Vector256.Create(scales[24 + k]), BlockSums(p3, x), acc3);
            }
        }
        for (; b < blocks; b++)
        {
            Vector256<sbyte> x = Vector256.Load(q + b * BlockValues);
            int o = b * BlockBytes;
            Widen.PrefetchLines3<THint>(r0 + 4 * rowBytes + 4L * o);
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Create(Widen.Half(r0 + o) * d[b]), BlockSums(r0 + o, x), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.Create(Widen.Half(r1 + o) * d[b]), BlockSums(r1 + o, x), acc1);
            acc2 = Vector256.FusedMultiplyAdd(Vector256.Create(Widen.Half(r2 + o) * d[b]), BlockSums(r2 + o, x), acc2);
            acc3 = Vector256.FusedMultiplyAdd(Vector256.Create(Widen.Half(r3 + o) * d[b]), BlockSums(r3 + o, x), acc3);
        }
        y[0] = HorizontalSum(acc0);
        y[1] = HorizontalSum(acc1);
        y[2] = HorizontalSum(acc2);
        y[3] = HorizontalSum(acc3);
    }

    /// <summary>((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)): the order of ggml's hsum_float_8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float HorizontalSum(Vector256<float> a)
    {
        Vector128<float> r = a.GetLower() + a.GetUpper();
        return (r.GetElement(0) + r.GetElement(2)) + (r.GetElement(1) + r.GetElement(3));
    }

    /// <summary>Σ w_i·q_i of one block as 8 exact int32 partial sums, converted to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> BlockSums(byte* p, sbyte* q) => BlockSums(p, Vector256.Load(q));

    /// <summary>Σ w_i·x_i of the block at <paramref name="p"/> and 32 activations already loaded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> BlockSums(byte* p, Vector256<sbyte> x) => Products((sbyte*)p + 2, x);

    /// <summary>Σ w_i·x_i of the 32 int8 weights at <paramref name="weights"/> and 32 activations already loaded, as 8 exact int32 partial sums converted to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Products(sbyte* weights, Vector256<sbyte> x)
    {
        Vector256<sbyte> w = Vector256.Load(weights);
        Vector256<short> pairs = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(System.Runtime.Intrinsics.X86.Avx2.Abs(w), System.Runtime.Intrinsics.X86.Avx2.Sign(x, w));
        return Avx.ConvertToVector256Single(System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1)));
    }

    /// <summary>The plain reference: exact integer sums per block, scaled by d_w·d_x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Scalar(byte* row, sbyte* q, float* d, int n)
    {
        float sum = 0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            int s = 0;
            for (int i = 0; i < BlockValues; i++) s += (sbyte)p[2 + i] * q[b * BlockValues + i];
            sum += Widen.Half(p) * d[b] * s;
        }
        return sum;
    }
}
