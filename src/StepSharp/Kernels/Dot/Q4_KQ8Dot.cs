using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(Q4_K row, x) with x rounded to int8 blocks of 32 (<see cref="Q8Activations.Quantize"/>), for
/// <see cref="ActivationQuantization"/>. Per sub-block j (spec gguf-format.md §3.2):
/// Σ (d·sc_j·n − dmin·m_j)·x ≈ d·sc_j·dx_j·Σ n·q − dmin·m_j·Σ x. The first sum is exact integer
/// arithmetic (vpmaddubsw: unsigned nibbles × signed int8), about a quarter of the float kernel's work per
/// weight byte; only it uses the rounded x, the min term keeps the exact per-32 sums of x. llama.cpp rounds
/// x per 256 values (Q8_K) for this type; per 32 is more accurate, so these results are close to, not equal to, its.
/// </summary>
internal static unsafe class Q4_KQ8Dot
{
    private const int BlockValues = 256, BlockBytes = 144;

    public static float Dot(Isa isa, byte* row, sbyte* q, float* dq, float* xSums, int n) =>
        isa == Isa.Scalar ? Scalar(row, q, dq, xSums, n) : Avx2(row, q, dq, xSums, n);

    /// <summary>256-bit on both vector tiers, for the reason given in <see cref="Q8Activations.Avx2"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2(byte* row, sbyte* q, float* dq, float* xSums, int n)
    {
        float* ds = stackalloc float[8];
        float* dd = stackalloc float[16];   // d of 8 super-blocks, then their dmin
        Vector256<float> accLo = Vector256<float>.Zero, accHi = Vector256<float>.Zero, mins = Vector256<float>.Zero;
        Vector256<byte> mask = Vector256.Create((byte)15);
        Vector256<short> ones = Vector256.Create((short)1);
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            sbyte* qb = q + b * BlockValues;
            if ((b & 7) == 0)
            {
                // Convert 8 super-blocks' d and dmin together (or one by one for a last partial group).
                if (b + 8 <= n / BlockValues) Widen.SuperBlockScales8(p, BlockBytes, dd, dd + 8);
                else for (int k = 0; k < n / BlockValues - b; k++) (dd[k], dd[8 + k]) = (Widen.Half(p + k * BlockBytes), Widen.Half(p + k * BlockBytes + 2));
            }
            float d = dd[b & 7], dmin = dd[8 + (b & 7)];
            var (scalesPacked, minsPacked) = Widen.KScalesPacked(p + 4);
            mins = Vector256.FusedMultiplyAdd(Vector256.Create(dmin), Widen.MinsTimesSums(minsPacked, xSums + 8 * b), mins);
            // d·sc_j·dx_j for the 8 sub-blocks at once.
            (Widen.ScaledBytes8(scalesPacked, d) * Vector256.Load(dq + 8 * b)).Store(ds);
            for (int c = 0; c < 4; c++)
            {
                Vector256<byte> nibbles = Vector256.Load(p + 16 + 32 * c);
                Vector256<short> lo = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(nibbles & mask, Vector256.Load(qb + 64 * c));
                Vector256<short> hi = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(Vector256.ShiftRightLogical(nibbles, 4), Vector256.Load(qb + 64 * c + 32));
                // 15·127·2 < 2¹⁵: the pairwise int16 sums cannot saturate.
                accLo = Vector256.FusedMultiplyAdd(Vector256.Create(ds[2 * c]), Avx.ConvertToVector256Single(System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(lo, ones)), accLo);
                accHi = Vector256.FusedMultiplyAdd(Vector256.Create(ds[2 * c + 1]), Avx.ConvertToVector256Single(System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(hi, ones)), accHi);
            }
        }
        return Vector256.Sum(accLo + accHi) - Vector256.Sum(mins);
    }

    /// <summary>The plain reference: exact integer sums per sub-block, the formula above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Scalar(byte* row, sbyte* q, float* dq, float* xSums, int n)
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
                byte* qs = p + 16 + 32 * (j / 2);
                sbyte* qj = q + b * BlockValues + 32 * j;
                int s = 0;
                for (int l = 0; l < 32; l++) s += ((j & 1) == 0 ? qs[l] & 15 : qs[l] >> 4) * qj[l];
                sum += d * sm[j] * dq[8 * b + j] * s - dmin * sm[8 + j] * xSums[8 * b + j];
            }
        }
        return sum;
    }
}
