using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using StepSharp.Tensors.Blocks;
using Avx2Ops = System.Runtime.Intrinsics.X86.Avx2;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(row, x) for Q4_K rows in the sub-block-interleaved layout (<see cref="Q4_KInterleavedBlock"/>) against Q8_K
/// activations permuted to match (<see cref="PermuteActivations"/>): the same integers as <see cref="Q4_KQ8Dot"/>,
/// I = Σ_j sc_j·Σ_{i∈j} n_i·q_i and M = Σ_k bsums_k·m_{k/2}, in fewer operations. In the file's layout each
/// 32-byte vector holds two whole sub-blocks, so each of its two vpmaddubsw results needs its own broadcast scale
/// and vpmaddwd. Here a vector's low nibbles hold 8 values of each of sub-blocks 0–3 and its high nibbles 8 of each
/// of 4–7, in the same lanes in all four vectors: the four low-nibble products are added as int16 (|sum| ≤
/// 4·2·15·127 = 15240) and scaled by one vpmaddwd against a per-super-block vector of sc_0..sc_3, likewise the
/// high ones. Per row and super-block that is 2 vpmaddwd and 2 scale shuffles instead of 8 and 8.
/// </summary>
internal static unsafe class Q4_KInterleavedQ8Dot
{
    private const int BlockValues = 256, BlockBytes = 144;

    /// <summary>
    /// Rearranges n Q8_K values (a multiple of 256) for this layout: per super-block, 32-byte vector 2v + h holds
    /// the values 8v..8v+8 of sub-blocks 4h, 4h+1, 4h+2, 4h+3, which the low (h = 0) or high (h = 1) nibbles of
    /// weight vector v multiply. Block scales and the 16-value sums are unchanged.
    /// </summary>
    public static void PermuteActivations(sbyte* q, sbyte* dst, int n) => Q4_KInterleavedBlock.PermuteValues((byte*)q, (byte*)dst, n);

    /// <summary>The inverse of <see cref="PermuteActivations"/> for one super-block (256 values), for the scalar references.</summary>
    public static void UnpermuteBlock(sbyte* permuted, sbyte* dst) => Q4_KInterleavedBlock.UnpermuteValues((byte*)permuted, (byte*)dst);

    /// <summary>One row (its first block at <paramref name="row"/>, the next ones four blocks apart, <paramref name="rowInGroup"/> its place in its group): the scalar reference on every tier. The decode kernels take rows four at a time; this serves tests and ranges that do not start on a group.</summary>
    public static float Dot(Isa isa, byte* row, int rowInGroup, sbyte* q, float* dq, short* bsums, int n) => Scalar(row, rowInGroup, q, dq, bsums, n);

    /// <summary>
    /// The four rows of the group at <paramref name="group"/>, results to y[0..4); headers and mins as in
    /// <see cref="Q4_KQ8Dot.Avx2Rows4"/>. The group's four blocks of a super-block are one 576-byte run, prefetched as
    /// the step begins: with the rows one stream, that and the hardware prefetchers keep the loads ahead. Measured from
    /// DRAM (`quick chunks Q4_KInterleaved 1024 16384`, one thread, shares of the bandwidth probe, medians of 16
    /// alternating rounds, 3 runs): four separate rows prefetching the next group 69–73 %, one group stream 80–84 %.
    /// </summary>
    public static void Avx2Rows4(byte* group, sbyte* q, float* dq, short* bsums, int n, float* y) => Avx2Groups(group, 0, 1, q, dq, bsums, n, y);

    /// <summary>
    /// <see cref="Avx2Rows4"/> for <paramref name="groups"/> consecutive groups <paramref name="groupBytes"/> apart
    /// (4·rowBytes), results to y[0..4·groups): one call and one set of constants for a whole range of rows. An
    /// expert's down projection has one super-block a row (256 values), so a call a group spent a fifth of its work on
    /// the call, its constants and the reduction's setup.
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
        // Every constant is made once here and passed down: built inside the inlined helpers, the JIT made the mask
        // and the vpermps indices again for each of the four rows (8 vbroadcastss, 6 vxorps and ~14 register copies a step).
        // vpshufb controls, one per row: int16 lane l takes byte 4r + l/4 of the rows' unpacked scales (bytes 4r..4r+3
        // are row r's sub-blocks 0–3, or 4–7 in the high vector), the same in both 128-bit halves.
        Vector256<byte> c0 = Vector256.Create(0x8000, 0x8000, 0x8000, 0x8000, 0x8001, 0x8001, 0x8001, 0x8001,
                                              0x8002, 0x8002, 0x8002, 0x8002, 0x8003, 0x8003, 0x8003, 0x8003).AsByte();
        Vector256<byte> c1 = (c0.AsUInt16() + Vector256.Create((ushort)4)).AsByte(), c2 = (c0.AsUInt16() + Vector256.Create((ushort)8)).AsByte(), c3 = (c0.AsUInt16() + Vector256.Create((ushort)12)).AsByte();
        Vector256<byte> mask = Vector256.Create((byte)15);
        Vector256<int> d0 = Vector256<int>.Zero, d1 = Vector256.Create(2), d2 = Vector256.Create(4), d3 = Vector256.Create(6);
        int blocks = n / BlockValues;
        // The activations' 32-value sums (pairs of their 16-value sums) as int16, made once a call instead of once a
        // group and super-block: the mins term's multiplier, which depends on the activations alone.
        short* subSums = stackalloc short[8 * blocks];
        for (int b = 0; b < blocks; b++)
        {
            Vector256<int> pairs = Avx2Ops.MultiplyAddAdjacent(Vector256.Load(bsums + 16 * b), Vector256.Create((short)1));
            Sse2.PackSignedSaturate(pairs.GetLower(), pairs.GetUpper()).Store(subSums + 8 * b);   // |Σ| ≤ 32·127: exact
        }
        for (int g = 0; g < groups; g++, first += groupBytes, y += 4)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0, mins = acc0;
            byte* p0 = first;
            sbyte* qb = q;
            for (int b = 0; b < blocks; b++, p0 += 4 * BlockBytes, qb += BlockValues)
            {
                byte* p1 = p0 + BlockBytes, p2 = p1 + BlockBytes, p3 = p2 + BlockBytes;
                Widen.PrefetchLines9<Widen.IntoL1>(p0);
                // The four blocks' header words are stored transposed (Q4_KInterleavedBlock): each load is one word of all
                // four rows, ready to unpack. In cache (bench/native/q4k_kernel_ablation.c) the 4×4 shuffle this saves was
                // ~15–20 % of the kernel's time. The scale words are loaded into both 128-bit halves, so each row's scales
                // are one vpshufb away (no per-row vpermq).
                Header<TBits>(p0, p1, p2, p3, dq[b], subSums + 8 * b, out Vector256<byte> scalesLow, out Vector256<byte> scalesHigh, out Vector256<float> rowScales, ref mins);
                // The super-block's activations, loaded once for the four rows.
                Vector256<sbyte> x0 = Vector256.Load(qb), x1 = Vector256.Load(qb + 32), x2 = Vector256.Load(qb + 64), x3 = Vector256.Load(qb + 96);
                Vector256<sbyte> x4 = Vector256.Load(qb + 128), x5 = Vector256.Load(qb + 160), x6 = Vector256.Load(qb + 192), x7 = Vector256.Load(qb + 224);
                acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Products<TBits>(p0, x0, x1, x2, x3, x4, x5, x6, x7, Avx2Ops.Shuffle(scalesLow, c0).AsInt16(), Avx2Ops.Shuffle(scalesHigh, c0).AsInt16(), mask)), Avx2Ops.PermuteVar8x32(rowScales, d0), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Products<TBits>(p1, x0, x1, x2, x3, x4, x5, x6, x7, Avx2Ops.Shuffle(scalesLow, c1).AsInt16(), Avx2Ops.Shuffle(scalesHigh, c1).AsInt16(), mask)), Avx2Ops.PermuteVar8x32(rowScales, d1), acc1);
                acc2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Products<TBits>(p2, x0, x1, x2, x3, x4, x5, x6, x7, Avx2Ops.Shuffle(scalesLow, c2).AsInt16(), Avx2Ops.Shuffle(scalesHigh, c2).AsInt16(), mask)), Avx2Ops.PermuteVar8x32(rowScales, d2), acc2);
                acc3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Products<TBits>(p3, x0, x1, x2, x3, x4, x5, x6, x7, Avx2Ops.Shuffle(scalesLow, c3).AsInt16(), Avx2Ops.Shuffle(scalesHigh, c3).AsInt16(), mask)), Avx2Ops.PermuteVar8x32(rowScales, d3), acc3);
            }
            Q4_KQ8Dot.Store4(acc0, acc1, acc2, acc3, mins, y);
        }
    }

    /// <summary>
    /// The four rows' transposed headers (word k of row r in word r of block k): their 6-bit scales for sub-blocks 0–3
    /// (<paramref name="scalesLow"/>) and 4–7 (<paramref name="scalesHigh"/>) as bytes 4r..4r+3 of both 128-bit halves,
    /// d·dx and dmin·dx of rows 0..3 interleaved, and the mins term added to <paramref name="mins"/> (lanes 2r, 2r+1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Header<TBits>(byte* p0, byte* p1, byte* p2, byte* p3, float dx, short* subSums,
        out Vector256<byte> scalesLow, out Vector256<byte> scalesHigh, out Vector256<float> rowScales, ref Vector256<float> mins) where TBits : struct, IBitFields
    {
        Vector256<byte> a = Avx2Ops.BroadcastVector128ToVector256(p1), b = Avx2Ops.BroadcastVector128ToVector256(p2), c = Avx2Ops.BroadcastVector128ToVector256(p3);
        Vector256<byte> six = Vector256.Create((byte)0x3f), four = Vector256.Create((byte)0x0f);
        // Q4_K's 6-bit fields: scales 0–3 and mins 0–3 in the low 6 bits of words a and b, scales 4–7 and mins 4–7 in
        // word c's low and high nibbles with their top two bits in a's and b's bits 6–7 (moved to 4–5 per byte).
        scalesLow = a & six;
        scalesHigh = (c & four) | TBits.TopBits(a, 2);
        Vector128<byte> minsLow = (b & six).GetLower(), minsHigh = (TBits.HighNibbles(c) | TBits.TopBits(b, 2)).GetLower();
        // d and dmin of rows 0..3 interleaved, times 2^-56, then times dx·2^56: the product d·dx of the exact conversion.
        rowScales = Widen.FiniteHalvesOver2Pow56(Vector128.Load((short*)p0)) * Vector256.Create(dx * Widen.TwoPow56);
        // Mins: M_r = Σ_j m_rj·s_j over the 32-value sums s_j (sub-blocks 0–3, then 4–7, each broadcast to the four
        // rows); lanes 2r, 2r+1 of the product hold row r's two halves.
        Vector256<short> low = Vector256.Create(*(long*)subSums).AsInt16(), high = Vector256.Create(*(long*)(subSums + 4)).AsInt16();
        Vector256<int> m = Avx2Ops.MultiplyAddAdjacent(Avx2Ops.ConvertToVector256Int16(minsLow.AsByte()), low)
                         + Avx2Ops.MultiplyAddAdjacent(Avx2Ops.ConvertToVector256Int16(minsHigh.AsByte()), high);
        mins = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(m), Avx.DuplicateOddIndexed(rowScales), mins);
    }

    /// <summary>I of one row's super-block as 8 int32 lanes: four low-nibble and four high-nibble products summed as int16, then scaled once each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Products<TBits>(byte* p, Vector256<sbyte> x0, Vector256<sbyte> x1, Vector256<sbyte> x2, Vector256<sbyte> x3,
        Vector256<sbyte> x4, Vector256<sbyte> x5, Vector256<sbyte> x6, Vector256<sbyte> x7,
        Vector256<short> scaleLow, Vector256<short> scaleHigh, Vector256<byte> mask) where TBits : struct, IBitFields
    {
        Vector256<byte> w0 = Vector256.Load(p + 16), w1 = Vector256.Load(p + 48), w2 = Vector256.Load(p + 80), w3 = Vector256.Load(p + 112);
        Vector256<short> lo = (Avx2Ops.MultiplyAddAdjacent(w0 & mask, x0) + Avx2Ops.MultiplyAddAdjacent(w1 & mask, x2))
                            + (Avx2Ops.MultiplyAddAdjacent(w2 & mask, x4) + Avx2Ops.MultiplyAddAdjacent(w3 & mask, x6));
        Vector256<short> hi = (Avx2Ops.MultiplyAddAdjacent(TBits.HighNibbles(w0), x1) + Avx2Ops.MultiplyAddAdjacent(TBits.HighNibbles(w1), x3))
                            + (Avx2Ops.MultiplyAddAdjacent(TBits.HighNibbles(w2), x5) + Avx2Ops.MultiplyAddAdjacent(TBits.HighNibbles(w3), x7));
        return Avx2Ops.MultiplyAddAdjacent(lo, scaleLow) + Avx2Ops.MultiplyAddAdjacent(hi, scaleHigh);
    }

    /// <summary>
    /// The plain reference for one row (blocks four apart, see <see cref="InMemoryLayouts"/>; <paramref name="rowInGroup"/>
    /// its place in its group, whose blocks hold its header words): each block turned back into Q4_K and its activations
    /// back into their order, then <see cref="Q4_KQ8Dot.Scalar"/> block by block, which adds the blocks' terms in the
    /// same order as it would.
    /// </summary>
    public static float Scalar(byte* row, int rowInGroup, sbyte* q, float* dq, short* bsums, int n)
    {
        byte* block = stackalloc byte[BlockBytes];
        sbyte* values = stackalloc sbyte[BlockValues];
        float sum = 0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            Q4_KInterleavedBlock.ToQ4_K(row + b * 4 * BlockBytes, rowInGroup, block);
            UnpermuteBlock(q + b * BlockValues, values);
            sum += Q4_KQ8Dot.Scalar(block, values, dq + b, bsums + 16 * b, BlockValues);
        }
        return sum;
    }
}
