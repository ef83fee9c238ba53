using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(Q4_0 row, x), dequantization fused (spec gguf-format.md §3.1: byte k holds value k in its low nibble
/// and value k+16 in its high nibble; value = (n − 8)·d). The −8 is applied on the bytes before widening,
/// so each 16 values cost one widen, one convert and one FMA.
/// </summary>
internal static unsafe class Q4_0Dot
{
    private const int BlockValues = 32, BlockBytes = 18;

    public static float Dot(Isa isa, byte* row, float* x, float* xSums, int n) => isa switch
    {
        Isa.Avx512 => Avx512(row, x, n),
        Isa.Avx2 => Avx2(row, x, n),
        _ => Scalar(row, x, n),
    };

    /// <summary>The 32 signed values n − 8 of a block: low nibbles then high nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<sbyte> Low, Vector128<sbyte> High) Values(byte* p)
    {
        Vector128<byte> qs = Vector128.Load(p + 2);
        Vector128<byte> mask = Vector128.Create((byte)15), eight = Vector128.Create((byte)8);
        return (((qs & mask) - eight).AsSByte(), (Vector128.ShiftRightLogical(qs, 4) - eight).AsSByte());
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx512(byte* row, float* x, int n)
    {
        int blocks = n / BlockValues, b = 0;
        float* scales = stackalloc float[8];
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        for (; b + 8 <= blocks; b += 8)
        {
            Widen.BlockScales8(row + b * BlockBytes, BlockBytes).Store(scales);
            // Alternate accumulators so consecutive blocks do not serialise on FMA latency.
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
    private static Vector512<float> Block512(byte* p, float* xb, float d, Vector512<float> acc)
    {
        var (lo, hi) = Values(p);
        Vector512<float> s = Vector512.FusedMultiplyAdd(Widen.SBytes512(hi), Vector512.Load(xb + 16), Widen.SBytes512(lo) * Vector512.Load(xb));
        return Vector512.FusedMultiplyAdd(Vector512.Create(d), s, acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2(byte* row, float* x, int n)
    {
        int blocks = n / BlockValues;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            byte* p = row + b * BlockBytes;
            float* xb = x + b * BlockValues;
            var (lo, hi) = Values(p);
            Vector256<float> s0 = Widen.SBytes256(lo) * Vector256.Load(xb);
            Vector256<float> s1 = Widen.SBytes256(Widen.High8(lo)) * Vector256.Load(xb + 8);
            s0 = Vector256.FusedMultiplyAdd(Widen.SBytes256(hi), Vector256.Load(xb + 16), s0);
            s1 = Vector256.FusedMultiplyAdd(Widen.SBytes256(Widen.High8(hi)), Vector256.Load(xb + 24), s1);
            Vector256<float> d = Vector256.Create(Widen.Half(p));
            acc0 = Vector256.FusedMultiplyAdd(d, s0, acc0);
            acc1 = Vector256.FusedMultiplyAdd(d, s1, acc1);
        }
        return Vector256.Sum(acc0 + acc1);
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
            for (int k = 0; k < 16; k++)
            {
                s += ((p[2 + k] & 15) - 8) * xb[k];
                s += ((p[2 + k] >> 4) - 8) * xb[k + 16];
            }
            sum += Widen.Half(p) * s;
        }
        return sum;
    }
}
