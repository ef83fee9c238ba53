using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(Q4_K row, x), dequantization fused (spec gguf-format.md §3.2: a 256-value super-block of eight
/// 32-value sub-blocks; value = (d·sc_j)·n − (dmin·m_j), each 32-byte group holds two sub-blocks, low
/// nibbles first). Per sub-block Σ (d1·n − m1)·x = d1·Σ n·x − m1·Σ x: the nibbles are widened and dotted
/// unscaled and scaled once per 32 values, and the eight m1·Σx terms of a super-block take one 8-lane
/// multiply-add with the caller's precomputed per-32 sums of x (xSums, see Widen.GroupSums32).
/// </summary>
internal static unsafe class Q4_KDot
{
    private const int BlockValues = 256, BlockBytes = 144;

    public static float Dot(Isa isa, byte* row, float* x, float* xSums, int n) => isa switch
    {
        Isa.Avx512 => Avx512(row, x, xSums, n),
        Isa.Avx2 => Avx2(row, x, xSums, n),
        _ => Scalar(row, x, n),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx512(byte* row, float* x, float* xSums, int n)
    {
        float* ds = stackalloc float[8];
        float* dd = stackalloc float[16];   // d of 8 super-blocks, then their dmin
        // Separate accumulators for even and odd sub-blocks: two independent FMA chains.
        Vector512<float> accLo = Vector512<float>.Zero, accHi = Vector512<float>.Zero;
        Vector256<float> mins = Vector256<float>.Zero;
        Vector512<int> mask = Vector512.Create(15);
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
            mins = Vector256.FusedMultiplyAdd(Vector256.Create(dmin), Widen.MinsTimesSums(minsPacked, xSums + 8 * b), mins);
            // d·sc_j for the 8 sub-blocks in one vector op; each is then broadcast straight from memory.
            Widen.ScaledBytes8(scalesPacked, d).Store(ds);
            for (int c = 0; c < 4; c++)
            {
                // Widen the bytes first (vpmovzxbd from memory) and split the nibbles in 32-bit lanes: one
                // widening per 16 bytes serves both sub-blocks, and no byte shifts (which AVX-512 lacks) are needed.
                float* xc = xb + 64 * c;
                Vector512<int> v0 = System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(Vector128.Load(p + 16 + 32 * c));
                Vector512<int> v1 = System.Runtime.Intrinsics.X86.Avx512F.ConvertToVector512Int32(Vector128.Load(p + 32 + 32 * c));
                Vector512<float> sLo = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(v1 & mask), Vector512.Load(xc + 16), Vector512.ConvertToSingle(v0 & mask) * Vector512.Load(xc));
                Vector512<float> sHi = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(v1 >>> 4), Vector512.Load(xc + 48), Vector512.ConvertToSingle(v0 >>> 4) * Vector512.Load(xc + 32));
                accLo = Vector512.FusedMultiplyAdd(Vector512.Create(ds[2 * c]), sLo, accLo);
                accHi = Vector512.FusedMultiplyAdd(Vector512.Create(ds[2 * c + 1]), sHi, accHi);
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
            mins = Vector256.FusedMultiplyAdd(Vector256.Create(dmin), Widen.MinsTimesSums(minsPacked, xSums + 8 * b), mins);
            // d·sc_j for the 8 sub-blocks in one vector op; each is then broadcast straight from memory.
            Widen.ScaledBytes8(scalesPacked, d).Store(ds);
            for (int c = 0; c < 4; c++)
            {
                Vector256<byte> q = Vector256.Load(p + 16 + 32 * c);
                float* xc = xb + 64 * c;
                accLo = Vector256.FusedMultiplyAdd(Vector256.Create(ds[2 * c]), Widen.Dot32Avx2(q & mask, xc), accLo);
                accHi = Vector256.FusedMultiplyAdd(Vector256.Create(ds[2 * c + 1]), Widen.Dot32Avx2(Vector256.ShiftRightLogical(q, 4), xc + 32), accHi);
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
                byte* qs = p + 16 + 32 * (j / 2);
                float* xj = x + b * BlockValues + 32 * j;
                for (int l = 0; l < 32; l++)
                {
                    int q = (j & 1) == 0 ? qs[l] & 15 : qs[l] >> 4;
                    sum += (d1 * q - m1) * xj[l];
                }
            }
        }
        return sum;
    }
}
