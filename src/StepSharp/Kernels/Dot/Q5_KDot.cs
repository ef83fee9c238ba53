using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(Q5_K row, x), dequantization fused (spec gguf-format.md §3.2: Q4_K's layout plus qh[32], whose bit j
/// of byte l is the 5th bit of value l of sub-block j). As in <see cref="Q4_KDot"/>, the scale is applied
/// once per sub-block and the mins through the precomputed sums of x; the 5th bit is merged into the nibble bytes before widening.
/// </summary>
internal static unsafe class Q5_KDot
{
    private const int BlockValues = 256, BlockBytes = 176;

    public static float Dot(Isa isa, byte* row, float* x, float* xSums, int n) => isa switch
    {
        Isa.Avx512 => Avx512(row, x, xSums, n),
        Isa.Avx2 => Avx2(row, x, xSums, n),
        _ => Scalar(row, x, n),
    };

    /// <summary>Nibble | 16·(bit j of qh) for the 32 values of one sub-block.</summary>
    private static Vector256<byte> With5thBit(Vector256<byte> nibbles, Vector256<byte> qh, int j)
    {
        Vector256<byte> bit = Vector256.Create((byte)(1 << j));
        return nibbles | (Vector256.Equals(qh & bit, bit) & Vector256.Create((byte)16));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx512(byte* row, float* x, float* xSums, int n)
    {
        float* ds = stackalloc float[8];
        float* dd = stackalloc float[16];   // d of 8 super-blocks, then their dmin
        Vector512<float> accLo = Vector512<float>.Zero, accHi = Vector512<float>.Zero;
        Vector256<float> mins = Vector256<float>.Zero;
        Vector256<byte> mask = Vector256.Create((byte)15);
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            float* xb = x + b * BlockValues;
            if ((b & 7) == 0)
            {
                // Convert 8 super-blocks' d and dmin together (or one by one for a last partial group).
                if (b + 8 <= n / BlockValues) Widen.SuperBlockScales8(p, BlockBytes, dd, dd + 8);
                else for (int k = 0; k < n / BlockValues - b; k++) (dd[k], dd[8 + k]) = (Widen.Half(p + k * BlockBytes), Widen.Half(p + k * BlockBytes + 2));
            }
            float d = dd[b & 7], dmin = dd[8 + (b & 7)];
            var (scalesPacked, minsPacked) = Widen.KScalesPacked(p + 4);
            Vector256<byte> qh = Vector256.Load(p + 16);
            mins = Vector256.FusedMultiplyAdd(Vector256.Create(dmin), Widen.MinsTimesSums(minsPacked, xSums + 8 * b), mins);
            // d·sc_j for the 8 sub-blocks in one vector op; each is then broadcast straight from memory.
            Widen.ScaledBytes8(scalesPacked, d).Store(ds);
            for (int c = 0; c < 4; c++)
            {
                Vector256<byte> q = Vector256.Load(p + 48 + 32 * c);
                float* xc = xb + 64 * c;
                Vector256<byte> lo = With5thBit(q & mask, qh, 2 * c), hi = With5thBit(Vector256.ShiftRightLogical(q, 4), qh, 2 * c + 1);
                accLo = Vector512.FusedMultiplyAdd(Vector512.Create(ds[2 * c]), Widen.Dot32(lo, xc), accLo);
                accHi = Vector512.FusedMultiplyAdd(Vector512.Create(ds[2 * c + 1]), Widen.Dot32(hi, xc + 32), accHi);
            }
        }
        return Vector512.Sum(accLo + accHi) - Vector256.Sum(mins);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2(byte* row, float* x, float* xSums, int n)
    {
        float* ds = stackalloc float[8];
        float* dd = stackalloc float[16];   // d of 8 super-blocks, then their dmin
        Vector256<float> accLo = Vector256<float>.Zero, accHi = Vector256<float>.Zero;
        Vector256<float> mins = Vector256<float>.Zero;
        Vector256<byte> mask = Vector256.Create((byte)15);
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            float* xb = x + b * BlockValues;
            if ((b & 7) == 0)
            {
                // Convert 8 super-blocks' d and dmin together (or one by one for a last partial group).
                if (b + 8 <= n / BlockValues) Widen.SuperBlockScales8(p, BlockBytes, dd, dd + 8);
                else for (int k = 0; k < n / BlockValues - b; k++) (dd[k], dd[8 + k]) = (Widen.Half(p + k * BlockBytes), Widen.Half(p + k * BlockBytes + 2));
            }
            float d = dd[b & 7], dmin = dd[8 + (b & 7)];
            var (scalesPacked, minsPacked) = Widen.KScalesPacked(p + 4);
            Vector256<byte> qh = Vector256.Load(p + 16);
            mins = Vector256.FusedMultiplyAdd(Vector256.Create(dmin), Widen.MinsTimesSums(minsPacked, xSums + 8 * b), mins);
            // d·sc_j for the 8 sub-blocks in one vector op; each is then broadcast straight from memory.
            Widen.ScaledBytes8(scalesPacked, d).Store(ds);
            for (int c = 0; c < 4; c++)
            {
                Vector256<byte> q = Vector256.Load(p + 48 + 32 * c);
                float* xc = xb + 64 * c;
                Vector256<byte> lo = With5thBit(q & mask, qh, 2 * c), hi = With5thBit(Vector256.ShiftRightLogical(q, 4), qh, 2 * c + 1);
                accLo = Vector256.FusedMultiplyAdd(Vector256.Create(ds[2 * c]), Widen.Dot32Avx2(lo, xc), accLo);
                accHi = Vector256.FusedMultiplyAdd(Vector256.Create(ds[2 * c + 1]), Widen.Dot32Avx2(hi, xc + 32), accHi);
            }
        }
        return Vector256.Sum(accLo + accHi) - Vector256.Sum(mins);
    }

    /// <summary>The plain reference: the formula of spec §3.2, one value at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Scalar(byte* row, float* x, int n)
    {
        byte* sm = stackalloc byte[16];
        float sum = 0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            float d = Widen.Half(p), dmin = Widen.Half(p + 2);
            Widen.KScales(p + 4, sm);
            for (int j = 0; j < 8; j++)
            {
                float d1 = d * sm[j], m1 = dmin * sm[8 + j];
                byte* qs = p + 48 + 32 * (j / 2);
                float* xj = x + b * BlockValues + 32 * j;
                for (int l = 0; l < 32; l++)
                {
                    int q = ((j & 1) == 0 ? qs[l] & 15 : qs[l] >> 4) + 16 * ((p[16 + l] >> j) & 1);
                    sum += (d1 * q - m1) * xj[l];
                }
            }
        }
        return sum;
    }
}
