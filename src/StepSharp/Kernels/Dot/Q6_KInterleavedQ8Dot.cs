using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using StepSharp.Tensors.Blocks;
using Avx2Ops = System.Runtime.Intrinsics.X86.Avx2;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(row, x) for Q6_K rows in the interleaved layout (<see cref="Q6_KInterleavedBlock"/>) against the permuted
/// Q8_K activations of <see cref="Q4_KInterleavedQ8Dot.PermuteActivations"/>: the integers of <see cref="Q6_KQ8Dot"/>,
/// I = Σ_g sc_g·Σ_{i∈g} u_i·q_i − 32·Σ_g sc_g·bsums_g, with fewer operations. In the permuted order the 16-value
/// groups of vectors k and k + 2 (k ∈ {0, 1, 4, 5}) sit in the same lanes, so their vpmaddubsw products are added
/// as int16 (|sum| ≤ 2·2·63·127 = 32004) and scaled by one vpmaddwd: 4 per row and super-block instead of 8, with
/// 4 scale vectors instead of 8. Bit fields are cut with GFNI where the machine has it (<see cref="IBitFields"/>).
/// </summary>
internal static unsafe class Q6_KInterleavedQ8Dot
{
    private const int BlockValues = 256, BlockBytes = 210;

    /// <summary>One row (its blocks four apart): the scalar reference on every tier (as <see cref="Q4_KInterleavedQ8Dot.Dot"/>).</summary>
    public static float Dot(Isa isa, byte* row, sbyte* q, float* dq, short* bsums, int n) => Scalar(row, q, dq, bsums, n);

    /// <summary>The four rows of the group at <paramref name="group"/>, results to y[0..4) (prefetching as <see cref="Q4_KInterleavedQ8Dot.Avx2Rows4"/>).</summary>
    public static void Avx2Rows4(byte* group, sbyte* q, float* dq, short* bsums, int n, float* y) => Avx2Groups(group, 0, 1, q, dq, bsums, n, y);

    /// <summary>
    /// <see cref="Avx2Rows4(byte*, sbyte*, float*, short*, int, float*)"/> for <paramref name="groups"/> consecutive
    /// groups <paramref name="groupBytes"/> apart, results to y[0..4·groups): one call for a range of rows (see
    /// <see cref="Q4_KInterleavedQ8Dot.Avx2Groups"/>).
    /// </summary>
    public static void Avx2Groups(byte* first, long groupBytes, int groups, sbyte* q, float* dq, short* bsums, int n, float* y)
    {
        if (Gfni.V256.IsSupported) Avx2Groups<AffineBits>(first, groupBytes, groups, q, dq, bsums, n, y);
        else Avx2Groups<ShiftedBits>(first, groupBytes, groups, q, dq, bsums, n, y);
    }

    /// <summary><see cref="Avx2Rows4(byte*, sbyte*, float*, short*, int, float*)"/> with a given way of cutting bit fields (tests run both).</summary>
    internal static void Avx2Rows4<TBits>(byte* group, sbyte* q, float* dq, short* bsums, int n, float* y) where TBits : struct, IBitFields =>
        Avx2Groups<TBits>(group, 0, 1, q, dq, bsums, n, y);

    /// <summary><see cref="Avx2Groups(byte*, long, int, sbyte*, float*, short*, int, float*)"/> with a given way of cutting bit fields.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    internal static void Avx2Groups<TBits>(byte* first, long groupBytes, int groups, sbyte* q, float* dq, short* bsums, int n, float* y) where TBits : struct, IBitFields
    {
        for (int g = 0; g < groups; g++, first += groupBytes, y += 4)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int b = 0; b < n / BlockValues; b++)
            {
                byte* p0 = first + b * 4 * BlockBytes, p1 = p0 + BlockBytes, p2 = p1 + BlockBytes, p3 = p2 + BlockBytes;
                Widen.PrefetchLines14(p0);
                sbyte* qb = q + b * BlockValues;
                Vector256<short> bs = Vector256.Load(bsums + 16 * b);
                Vector256<float> rowScales = Q6_KQ8Dot.RowScales4(p0, p1, p2, p3, dq[b]);
                acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block<TBits>(p0, qb, bs)), Avx2Ops.PermuteVar8x32(rowScales, Vector256<int>.Zero), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block<TBits>(p1, qb, bs)), Avx2Ops.PermuteVar8x32(rowScales, Vector256.Create(1)), acc1);
                acc2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block<TBits>(p2, qb, bs)), Avx2Ops.PermuteVar8x32(rowScales, Vector256.Create(2)), acc2);
                acc3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block<TBits>(p3, qb, bs)), Avx2Ops.PermuteVar8x32(rowScales, Vector256.Create(3)), acc3);
            }
            Widen.Sums4(acc0, acc1, acc2, acc3).Store(y);
        }
    }

    /// <summary>I of one super-block (the −32 offset applied) as 8 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Block<TBits>(byte* p, sbyte* qb, Vector256<short> bs) where TBits : struct, IBitFields
    {
        Vector256<byte> low4 = Vector256.Create((byte)15);
        Vector256<byte> l0 = Vector256.Load(p), l1 = Vector256.Load(p + 32), l2 = Vector256.Load(p + 64), l3 = Vector256.Load(p + 96);
        Vector256<byte> h0 = Vector256.Load(p + 128), h1 = Vector256.Load(p + 160);
        // Vector k = 2v + h: low bits in nibble h of l_v, high bits at 2(k mod 4) of h_(k/4).
        Vector256<short> m0 = Avx2Ops.MultiplyAddAdjacent((l0 & low4) | TBits.TwoBits(h0, 0), Vector256.Load(qb));
        Vector256<short> m1 = Avx2Ops.MultiplyAddAdjacent(TBits.HighNibbles(l0) | TBits.TwoBits(h0, 1), Vector256.Load(qb + 32));
        Vector256<short> m2 = Avx2Ops.MultiplyAddAdjacent((l1 & low4) | TBits.TwoBits(h0, 2), Vector256.Load(qb + 64));
        Vector256<short> m3 = Avx2Ops.MultiplyAddAdjacent(TBits.HighNibbles(l1) | TBits.TwoBits(h0, 3), Vector256.Load(qb + 96));
        Vector256<short> m4 = Avx2Ops.MultiplyAddAdjacent((l2 & low4) | TBits.TwoBits(h1, 0), Vector256.Load(qb + 128));
        Vector256<short> m5 = Avx2Ops.MultiplyAddAdjacent(TBits.HighNibbles(l2) | TBits.TwoBits(h1, 1), Vector256.Load(qb + 160));
        Vector256<short> m6 = Avx2Ops.MultiplyAddAdjacent((l3 & low4) | TBits.TwoBits(h1, 2), Vector256.Load(qb + 192));
        Vector256<short> m7 = Avx2Ops.MultiplyAddAdjacent(TBits.HighNibbles(l3) | TBits.TwoBits(h1, 3), Vector256.Load(qb + 224));
        // Lane group g of vectors 2v + h holds 16-value group 2(4h + g) + v/2: vectors k and k + 2 share scales.
        Vector256<byte> sc = Avx2Ops.BroadcastVector128ToVector256(p + 192);   // one load; Vector256.Create(Vector128.Load) took four ops
        Vector256<int> isum = Avx2Ops.MultiplyAddAdjacent(m0 + m2, Scales(sc, 0, 0)) + Avx2Ops.MultiplyAddAdjacent(m1 + m3, Scales(sc, 1, 0))
                            + (Avx2Ops.MultiplyAddAdjacent(m4 + m6, Scales(sc, 0, 1)) + Avx2Ops.MultiplyAddAdjacent(m5 + m7, Scales(sc, 1, 1)));
        Vector256<short> sc16 = Avx2Ops.ConvertToVector256Int16(Vector128.Load((sbyte*)(p + 192)));
        return isum - (Avx2Ops.MultiplyAddAdjacent(bs, sc16) << 5);
    }

    /// <summary>
    /// The int16 scale of each lane for vectors 2v + h with v/2 = <paramref name="half"/>: lane l takes scale
    /// 8h + 2(l/4) + half, sign-extended (vpshufb puts the byte in the lane's high half, an arithmetic shift brings it down).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Scales(Vector256<byte> sc, int h, int half)
    {
        int s0 = 8 * h + half;
        Vector256<short> control = Vector256.Create(
            (short)(s0 << 8 | 0x80), (short)(s0 << 8 | 0x80), (short)(s0 << 8 | 0x80), (short)(s0 << 8 | 0x80),
            (short)((s0 + 2) << 8 | 0x80), (short)((s0 + 2) << 8 | 0x80), (short)((s0 + 2) << 8 | 0x80), (short)((s0 + 2) << 8 | 0x80),
            (short)((s0 + 4) << 8 | 0x80), (short)((s0 + 4) << 8 | 0x80), (short)((s0 + 4) << 8 | 0x80), (short)((s0 + 4) << 8 | 0x80),
            (short)((s0 + 6) << 8 | 0x80), (short)((s0 + 6) << 8 | 0x80), (short)((s0 + 6) << 8 | 0x80), (short)((s0 + 6) << 8 | 0x80));
        return Vector256.ShiftRightArithmetic(Avx2Ops.Shuffle(sc, control.AsByte()).AsInt16(), 8);
    }

    /// <summary>How the kernel cuts bit fields out of bytes.</summary>
    internal interface IBitFields
    {
        /// <summary>Each byte's high nibble, as a value 0–15.</summary>
        static abstract Vector256<byte> HighNibbles(Vector256<byte> w);

        /// <summary>Each byte's bits 2f and 2f + 1, moved to bits 4 and 5 (the high two of a 6-bit value), other bits zero.</summary>
        static abstract Vector256<byte> TwoBits(Vector256<byte> w, int f);
    }

    /// <summary>One gf2p8affineqb a field: each byte times the bit matrix that moves the field (see <see cref="Q4_KInterleavedQ8Dot"/>'s High).</summary>
    internal readonly struct AffineBits : IBitFields
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> HighNibbles(Vector256<byte> w) =>
            Gfni.V256.GaloisFieldAffineTransform(w, Vector256.Create(0x1020408000000000UL).AsByte(), 0);

        // Output bit 4 = input bit 2f (matrix byte 3), output bit 5 = input bit 2f + 1 (byte 2).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> TwoBits(Vector256<byte> w, int f) =>
            Gfni.V256.GaloisFieldAffineTransform(w, Vector256.Create((1UL << (2 * f)) << 24 | (1UL << (2 * f + 1)) << 16).AsByte(), 0);
    }

    /// <summary>16-bit shifts and masks (AVX2 without GFNI).</summary>
    internal readonly struct ShiftedBits : IBitFields
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> HighNibbles(Vector256<byte> w) => Vector256.ShiftRightLogical(w.AsUInt16(), 4).AsByte() & Vector256.Create((byte)15);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> TwoBits(Vector256<byte> w, int f)
        {
            Vector256<ushort> u = w.AsUInt16();
            Vector256<ushort> moved = f switch { 0 => u << 4, 1 => u << 2, 2 => u, _ => u >> 2 };
            return moved.AsByte() & Vector256.Create((byte)0x30);
        }
    }

    /// <summary>
    /// The plain reference for one row (blocks four apart): each block turned back into Q6_K and its activations back into their order, then
    /// <see cref="Q6_KQ8Dot.Scalar"/> block by block, which adds the blocks' terms in the same order as it would.
    /// </summary>
    public static float Scalar(byte* row, sbyte* q, float* dq, short* bsums, int n)
    {
        byte* block = stackalloc byte[BlockBytes];
        sbyte* values = stackalloc sbyte[BlockValues];
        float sum = 0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            Q6_KInterleavedBlock.ToQ6_K(row + b * 4 * BlockBytes, block);
            Q4_KInterleavedQ8Dot.UnpermuteBlock(q + b * BlockValues, values);
            sum += Q6_KQ8Dot.Scalar(block, values, dq + b, bsums + 16 * b, BlockValues);
        }
        return sum;
    }
}
