using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(Q8_0 row, x) with the dequantization fused in (spec gguf-format.md §3.1: value i = qs[i]·d).
/// Per block the 32 int8 are widened to f32 in registers, dotted with x, and the block sum is scaled by
/// d once: Σ_b d_b·(Σ_i q_i·x_i). Nothing decoded is stored.
/// </summary>
internal static unsafe class Q8_0Dot
{
    private const int BlockValues = 32, BlockBytes = 34;

    public static float Dot(Isa isa, byte* row, float* x, float* xSums, int n) => isa switch
    {
        Isa.Avx512 => Avx512(row, x, n),
        Isa.Avx2 => Avx2(row, x, n),
        _ => Scalar(row, x, n),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx512(byte* row, float* x, int n)
    {
        int blocks = n / BlockValues, b = 0;
        float* scales = stackalloc float[8];
        // Two accumulators so consecutive blocks' FMAs do not wait on each other's latency.
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        for (; b + 8 <= blocks; b += 8)
        {
            Widen.BlockScales8(row + b * BlockBytes, BlockBytes).Store(scales);
            for (int k = 0; k < 8; k += 2)
            {
                acc0 = Block512(row + (b + k) * BlockBytes, x + (b + k) * BlockValues, scales[k], acc0);
                acc1 = Block512(row + (b + k + 1) * BlockBytes, x + (b + k + 1) * BlockValues, scales[k + 1], acc1);
            }
        }
        for (; b < blocks; b++) acc0 = Block512(row + b * BlockBytes, x + b * BlockValues, Widen.Half(row + b * BlockBytes), acc0);
        return Vector512.Sum(acc0 + acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Block512(byte* p, float* x, float d, Vector512<float> acc)
    {
        Vector512<float> q0 = Widen.SBytes512(Vector128.Load((sbyte*)p + 2));
        Vector512<float> q1 = Widen.SBytes512(Vector128.Load((sbyte*)p + 18));
        Vector512<float> s = Vector512.FusedMultiplyAdd(q1, Vector512.Load(x + 16), q0 * Vector512.Load(x));
        return Vector512.FusedMultiplyAdd(Vector512.Create(d), s, acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2(byte* row, float* x, int n)
    {
        int blocks = n / BlockValues, b = 0;
        float* scales = stackalloc float[8];
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        for (; b + 8 <= blocks; b += 8)
        {
            Widen.BlockScales8(row + b * BlockBytes, BlockBytes).Store(scales);
            for (int k = 0; k < 8; k++)
                Block256(row + (b + k) * BlockBytes, x + (b + k) * BlockValues, scales[k], ref acc0, ref acc1);
        }
        for (; b < blocks; b++) Block256(row + b * BlockBytes, x + b * BlockValues, Widen.Half(row + b * BlockBytes), ref acc0, ref acc1);
        return Vector256.Sum(acc0 + acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block256(byte* p, float* xb, float scale, ref Vector256<float> acc0, ref Vector256<float> acc1)
    {
        Vector128<sbyte> lo = Vector128.Load((sbyte*)p + 2), hi = Vector128.Load((sbyte*)p + 18);
        Vector256<float> s0 = Widen.SBytes256(lo) * Vector256.Load(xb);
        Vector256<float> s1 = Widen.SBytes256(Widen.High8(lo)) * Vector256.Load(xb + 8);
        s0 = Vector256.FusedMultiplyAdd(Widen.SBytes256(hi), Vector256.Load(xb + 16), s0);
        s1 = Vector256.FusedMultiplyAdd(Widen.SBytes256(Widen.High8(hi)), Vector256.Load(xb + 24), s1);
        Vector256<float> d = Vector256.Create(scale);
        acc0 = Vector256.FusedMultiplyAdd(d, s0, acc0);
        acc1 = Vector256.FusedMultiplyAdd(d, s1, acc1);
    }

    /// <summary>The plain reference: the formula of spec §3.1, one value at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Scalar(byte* row, float* x, int n)
    {
        float sum = 0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            float* xb = x + b * BlockValues;
            float s = 0;
            for (int i = 0; i < BlockValues; i++) s += (sbyte)p[2 + i] * xb[i];
            sum += Widen.Half(p) * s;
        }
        return sum;
    }
}
