using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(Q5_0 row, x), dequantization fused (spec gguf-format.md §3.1: qh bit i is the 5th bit of value i,
/// the nibbles are laid out as Q4_0; value = (n5 − 16)·d). The 32 fifth bits are spread over bytes by
/// a shuffle that copies qh byte k/8 into byte k and a per-byte bit mask, so all 32 values are assembled
/// in byte lanes before widening.
/// </summary>
internal static unsafe class Q5_0Dot
{
    private const int BlockValues = 32, BlockBytes = 22;

    public static float Dot(Isa isa, byte* row, float* x, float* xSums, int n) => isa switch
    {
        Isa.Avx512 => Avx512(row, x, n),
        Isa.Avx2 => Avx2(row, x, n),
        _ => Scalar(row, x, n),
    };

    /// <summary>The 32 signed values n5 − 16 of a block: values 0-15, then 16-31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<sbyte> Low, Vector128<sbyte> High) Values(byte* p)
    {
        Vector128<byte> qh = Vector128.CreateScalarUnsafe(*(uint*)(p + 2)).AsByte();
        // byte k of the result takes qh byte k/8; then bit k%8 of it is tested.
        Vector128<byte> spreadLow = Ssse3.Shuffle(qh, Vector128.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
        Vector128<byte> spreadHigh = Ssse3.Shuffle(qh, Vector128.Create((byte)2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        Vector128<byte> bit = Vector128.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        Vector128<byte> sixteen = Vector128.Create((byte)16);
        // (spread & bit) == bit gives 0xFF where the 5th bit is set; & 16 turns that into the bit's weight.
        Vector128<byte> fifthLow = Vector128.Equals(spreadLow & bit, bit) & sixteen;
        Vector128<byte> fifthHigh = Vector128.Equals(spreadHigh & bit, bit) & sixteen;
        Vector128<byte> qs = Vector128.Load(p + 6);
        Vector128<byte> low = ((qs & Vector128.Create((byte)15)) | fifthLow) - sixteen;
        Vector128<byte> high = (Vector128.ShiftRightLogical(qs, 4) | fifthHigh) - sixteen;
        return (low.AsSByte(), high.AsSByte());
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
            uint qh = *(uint*)(p + 2);
            float s = 0;
            for (int k = 0; k < 16; k++)
            {
                int lo = (p[6 + k] & 15) | (int)((qh >> k) & 1) << 4;
                int hi = (p[6 + k] >> 4) | (int)((qh >> (k + 16)) & 1) << 4;
                s += (lo - 16) * xb[k] + (hi - 16) * xb[k + 16];
            }
            sum += Widen.Half(p) * s;
        }
        return sum;
    }
}
