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
/// 4 scale vectors instead of 8. Six of the eight value vectors are stored whole (one AND each); bit fields are
/// moved with GFNI where the machine has it (<see cref="IBitFields"/>).
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
        Vector256<byte> six = Vector256.Create((byte)63);
        for (int g = 0; g < groups; g++, first += groupBytes, y += 4)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int b = 0; b < n / BlockValues; b++)
            {
                byte* p0 = first + b * 4 * BlockBytes, p1 = p0 + BlockBytes, p2 = p1 + BlockBytes, p3 = p2 + BlockBytes;
                Widen.PrefetchLines14(p0);
                sbyte* qb = q + b * BlockValues;
                // The 16-value sums in the scales' stored order (64-bit words 0, 2, 1, 3), once for the four rows.
                Vector256<short> bs = Avx2Ops.Permute4x64(Vector256.Load(bsums + 16 * b).AsUInt64(), 0b11_01_10_00).AsInt16();
                Vector256<float> rowScales = Q6_KQ8Dot.RowScales4(p0, p1, p2, p3, dq[b]);
                acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block<TBits>(p0, qb, bs, six)), Avx2Ops.PermuteVar8x32(rowScales, Vector256<int>.Zero), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block<TBits>(p1, qb, bs, six)), Avx2Ops.PermuteVar8x32(rowScales, Vector256.Create(1)), acc1);
                acc2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block<TBits>(p2, qb, bs, six)), Avx2Ops.PermuteVar8x32(rowScales, Vector256.Create(2)), acc2);
                acc3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block<TBits>(p3, qb, bs, six)), Avx2Ops.PermuteVar8x32(rowScales, Vector256.Create(3)), acc3);
            }
            Widen.Sums4(acc0, acc1, acc2, acc3).Store(y);
        }
    }

    /// <summary>I of one super-block (the −32 offset applied) as 8 int32 lanes; <paramref name="bs"/> the 16-value sums in <see cref="Q6_KInterleavedBlock.ScaleOrder"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Block<TBits>(byte* p, sbyte* qb, Vector256<short> bs, Vector256<byte> six) where TBits : struct, IBitFields
    {
        Vector256<byte> f0 = Vector256.Load(p), f1 = Vector256.Load(p + 32), f2 = Vector256.Load(p + 64);
        Vector256<byte> f3 = Vector256.Load(p + 96), f4 = Vector256.Load(p + 128), f5 = Vector256.Load(p + 160);
        // Vectors 0–5 are whole in bits 0–5; 6 and 7 are put together from bits 6–7 of three of them each.
        Vector256<byte> v6 = TBits.TopBits(f0, 0) | TBits.TopBits(f1, 1) | TBits.TopBits(f2, 2);
        Vector256<byte> v7 = TBits.TopBits(f3, 0) | TBits.TopBits(f4, 1) | TBits.TopBits(f5, 2);
        Vector256<short> m0 = Avx2Ops.MultiplyAddAdjacent(f0 & six, Vector256.Load(qb));
        Vector256<short> m1 = Avx2Ops.MultiplyAddAdjacent(f1 & six, Vector256.Load(qb + 32));
        Vector256<short> m2 = Avx2Ops.MultiplyAddAdjacent(f2 & six, Vector256.Load(qb + 64));
        Vector256<short> m3 = Avx2Ops.MultiplyAddAdjacent(f3 & six, Vector256.Load(qb + 96));
        Vector256<short> m4 = Avx2Ops.MultiplyAddAdjacent(f4 & six, Vector256.Load(qb + 128));
        Vector256<short> m5 = Avx2Ops.MultiplyAddAdjacent(f5 & six, Vector256.Load(qb + 160));
        Vector256<short> m6 = Avx2Ops.MultiplyAddAdjacent(v6, Vector256.Load(qb + 192));
        Vector256<short> m7 = Avx2Ops.MultiplyAddAdjacent(v7, Vector256.Load(qb + 224));
        // Lane group g of vectors 2v + h holds 16-value group 2(4h + g) + v/2: vectors k and k + 2 share scales. The
        // stored order puts each 128-bit half's scales in that half, so a scale vector is one in-lane word shuffle.
        Vector256<byte> sc16 = Avx2Ops.ConvertToVector256Int16((sbyte*)(p + 192)).AsByte();
        Vector256<int> isum = Avx2Ops.MultiplyAddAdjacent(m0 + m2, Avx2Ops.Shuffle(sc16, Words(0, 2)).AsInt16())
                            + Avx2Ops.MultiplyAddAdjacent(m1 + m3, Avx2Ops.Shuffle(sc16, Words(4, 6)).AsInt16())
                            + (Avx2Ops.MultiplyAddAdjacent(m4 + m6, Avx2Ops.Shuffle(sc16, Words(1, 3)).AsInt16())
                             + Avx2Ops.MultiplyAddAdjacent(m5 + m7, Avx2Ops.Shuffle(sc16, Words(5, 7)).AsInt16()));
        return isum - (Avx2Ops.MultiplyAddAdjacent(bs, sc16.AsInt16()) << 5);
    }

    /// <summary>
    /// vpshufb control: int16 lanes 0–3 of each 128-bit half take that half's word <paramref name="a"/>, lanes 4–7 word
    /// <paramref name="b"/>. With the scales in <see cref="Q6_KInterleavedBlock.ScaleOrder"/>, (0, 2) gives lane l
    /// scale 2(l/4), (4, 6) scale 8 + 2(l/4), (1, 3) and (5, 7) the odd ones after them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Words(int a, int b)
    {
        short wa = (short)((2 * a + 1) << 8 | 2 * a), wb = (short)((2 * b + 1) << 8 | 2 * b);
        return Vector256.Create(wa, wa, wa, wa, wb, wb, wb, wb, wa, wa, wa, wa, wb, wb, wb, wb).AsByte();
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
