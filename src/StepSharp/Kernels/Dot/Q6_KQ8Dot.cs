using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Avx2Ops = System.Runtime.Intrinsics.X86.Avx2;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(Q6_K row, x) with x rounded to Q8_K blocks (<see cref="Q8KActivations"/>), llama.cpp's "Q6_K × Q8_K"
/// (spec gguf-format.md §4). A Q6_K super-block (§3.2: ql[128] low nibbles, qh[64] high bit pairs, 16 int8
/// scales, fp16 d) holds w = d·sc_g·(u − 32) with u in 0..63 and one scale per 16 values g, so per super-block
/// I = Σ_g sc_g·Σ_{i∈g} u_i·q_i − 32·Σ_g sc_g·bsums_g and s += (d·dx)·I, all exact integers: the unsigned
/// 6-bit values go straight into vpmaddubsw and the −32 offset comes from the activations' 16-value sums.
/// </summary>
internal static unsafe class Q6_KQ8Dot
{
    private const int BlockValues = 256, BlockBytes = 210;

    public static float Dot(Isa isa, byte* row, sbyte* q, float* dq, short* bsums, int n) => isa switch
    {
        Isa.Avx512 => Avx512(row, q, dq, bsums, n),
        Isa.Avx2 => Avx2(row, q, dq, bsums, n),
        _ => Scalar(row, q, dq, bsums, n),
    };

    /// <summary>
    /// 64 values a vector: 64 bytes of ql give values 0–63 of a half (low nibbles of its two 32-byte rows) and
    /// values 64–127 (high nibbles), each with its pair of qh bits; 32 bytes of qh serve both, shifted by 0 or 2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx512(byte* row, sbyte* q, float* dq, short* bsums, int n)
    {
        Vector512<float> acc = Vector512<float>.Zero;
        Vector512<byte> low4 = Vector512.Create((byte)0x0F), bits45 = Vector512.Create((byte)0x30);
        Vector512<ushort> highShift = Vector512.Create(Vector256<ushort>.Zero, Vector256.Create((ushort)2));
        Vector512<short> groups0 = GroupIndex(0), groups4 = GroupIndex(4), groups8 = GroupIndex(8), groups12 = GroupIndex(12);
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            sbyte* qb = q + b * BlockValues;
            Vector256<short> sc16 = Avx2Ops.ConvertToVector256Int16(Vector128.Load((sbyte*)(p + 192)));
            Vector512<short> scales = sc16.ToVector512Unsafe();
            Vector512<int> isum = Half64(p, p + 128, qb, scales, low4, bits45, highShift, groups0, groups4)
                                + Half64(p + 64, p + 160, qb + 128, scales, low4, bits45, highShift, groups8, groups12);
            Vector256<int> offset = Avx2Ops.MultiplyAddAdjacent(Vector256.Load(bsums + 16 * b), sc16);
            isum -= (offset << 5).ToVector512();
            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(isum), Vector512.Create(Widen.Half(p + 208) * dq[b]), acc);
        }
        return Vector512.Sum(acc);
    }

    /// <summary>
    /// <see cref="Avx512"/> for four rows <paramref name="rowBytes"/> apart, results to y[0..4): the rows share the
    /// conversion of their d and one transposed final reduction (see <see cref="Q4_KQ8Dot.Avx2Rows4"/>).
    /// </summary>
    public static void Avx512Rows4(byte* row, long rowBytes, sbyte* q, float* dq, short* bsums, int n, float* y)
    {
        if (Widen.PrefetchesToL2(rowBytes)) Avx512Rows4<Widen.IntoL2>(row, rowBytes, q, dq, bsums, n, y);
        else Avx512Rows4<Widen.IntoL1>(row, rowBytes, q, dq, bsums, n, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Rows4<THint>(byte* row, long rowBytes, sbyte* q, float* dq, short* bsums, int n, float* y) where THint : struct, Widen.IPrefetchHint
    {
        float* scales = stackalloc float[8];   // d·dx of the four rows' current super-block
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        Vector512<byte> low4 = Vector512.Create((byte)0x0F), bits45 = Vector512.Create((byte)0x30);
        Vector512<ushort> highShift = Vector512.Create(Vector256<ushort>.Zero, Vector256.Create((ushort)2));
        Vector512<short> groups0 = GroupIndex(0), groups4 = GroupIndex(4), groups8 = GroupIndex(8), groups12 = GroupIndex(12);
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p0 = row + b * BlockBytes, p1 = p0 + rowBytes, p2 = p1 + rowBytes, p3 = p2 + rowBytes;
            Widen.PrefetchNextRows<THint>(row, rowBytes, b * BlockBytes, BlockBytes);
            sbyte* qb = q + b * BlockValues;
            Vector256<short> bs = Vector256.Load(bsums + 16 * b);
            RowScales4(p0, p1, p2, p3, dq[b], scales);
            acc0 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Block512(p0, qb, bs, low4, bits45, highShift, groups0, groups4, groups8, groups12)), Vector512.Create(scales[0]), acc0);
            acc1 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Block512(p1, qb, bs, low4, bits45, highShift, groups0, groups4, groups8, groups12)), Vector512.Create(scales[1]), acc1);
            acc2 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Block512(p2, qb, bs, low4, bits45, highShift, groups0, groups4, groups8, groups12)), Vector512.Create(scales[2]), acc2);
            acc3 = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(Block512(p3, qb, bs, low4, bits45, highShift, groups0, groups4, groups8, groups12)), Vector512.Create(scales[3]), acc3);
        }
        Widen.Sums4(acc0.GetLower() + acc0.GetUpper(), acc1.GetLower() + acc1.GetUpper(), acc2.GetLower() + acc2.GetUpper(), acc3.GetLower() + acc3.GetUpper()).Store(y);
    }

    /// <summary>d·dx of four rows' super-blocks into scales[0..4): their four fp16 d converted together.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void RowScales4(byte* p0, byte* p1, byte* p2, byte* p3, float dx, float* scales) => RowScales4(p0, p1, p2, p3, dx).Store(scales);

    /// <summary>d·dx of four rows' super-blocks in lanes 0..4 (kernels that take them from registers, not the stack).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> RowScales4(byte* p0, byte* p1, byte* p2, byte* p3, float dx)
    {
        Vector256<uint> raw = Vector256.Create(*(ushort*)(p0 + 208), *(ushort*)(p1 + 208), *(ushort*)(p2 + 208), *(ushort*)(p3 + 208), 0u, 0u, 0u, 0u);
        return Widen.HalfBits256(raw) * Vector256.Create(dx);
    }

    /// <summary><see cref="Avx512Rows4"/> with 256-bit vectors (see <see cref="Q4_KQ8Dot.Avx2Rows4"/>).</summary>
    public static void Avx2Rows4(byte* row, long rowBytes, sbyte* q, float* dq, short* bsums, int n, float* y)
    {
        if (Widen.PrefetchesToL2(rowBytes)) Avx2Rows4<Widen.IntoL2>(row, rowBytes, q, dq, bsums, n, y);
        else Avx2Rows4<Widen.IntoL1>(row, rowBytes, q, dq, bsums, n, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Rows4<THint>(byte* row, long rowBytes, sbyte* q, float* dq, short* bsums, int n, float* y) where THint : struct, Widen.IPrefetchHint
    {
        float* scales = stackalloc float[8];
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p0 = row + b * BlockBytes, p1 = p0 + rowBytes, p2 = p1 + rowBytes, p3 = p2 + rowBytes;
            Widen.PrefetchNextRows<THint>(row, rowBytes, b * BlockBytes, BlockBytes);
            sbyte* qb = q + b * BlockValues;
            Vector256<short> bs = Vector256.Load(bsums + 16 * b);
            RowScales4(p0, p1, p2, p3, dq[b], scales);
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block256(p0, qb, bs)), Vector256.Create(scales[0]), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block256(p1, qb, bs)), Vector256.Create(scales[1]), acc1);
            acc2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block256(p2, qb, bs)), Vector256.Create(scales[2]), acc2);
            acc3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Block256(p3, qb, bs)), Vector256.Create(scales[3]), acc3);
        }
        Widen.Sums4(acc0, acc1, acc2, acc3).Store(y);
    }

    /// <summary>I of one super-block at <paramref name="p"/> (with the −32 offset applied) as 8 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Block256(byte* p, sbyte* qb, Vector256<short> bs)
    {
        Vector256<short> sc16 = Avx2Ops.ConvertToVector256Int16(Vector128.Load((sbyte*)(p + 192)));
        return Half32(p, qb, sc16, 0) + Half32(p, qb, sc16, 1) - (Avx2Ops.MultiplyAddAdjacent(bs, sc16) << 5);
    }

    /// <summary>I of one super-block at <paramref name="p"/> (with the −32 offset applied) as 16 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Block512(byte* p, sbyte* qb, Vector256<short> bs, Vector512<byte> low4, Vector512<byte> bits45, Vector512<ushort> highShift,
        Vector512<short> groups0, Vector512<short> groups4, Vector512<short> groups8, Vector512<short> groups12)
    {
        Vector256<short> sc16 = Avx2Ops.ConvertToVector256Int16(Vector128.Load((sbyte*)(p + 192)));
        Vector512<short> scales = sc16.ToVector512Unsafe();
        Vector512<int> isum = Half64(p, p + 128, qb, scales, low4, bits45, highShift, groups0, groups4)
                            + Half64(p + 64, p + 160, qb + 128, scales, low4, bits45, highShift, groups8, groups12);
        return isum - (Avx2Ops.MultiplyAddAdjacent(bs, sc16) << 5).ToVector512();   // zero upper half: no insert
    }

    /// <summary>Σ_g sc_g·Σ u·q over the 128 values of one half (its 64 ql and 32 qh bytes), as 16 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Half64(byte* ql, byte* qh, sbyte* x, Vector512<short> scales, Vector512<byte> low4, Vector512<byte> bits45,
        Vector512<ushort> highShift, Vector512<short> firstGroups, Vector512<short> secondGroups)
    {
        Vector512<byte> l = Vector512.Load(ql);
        // qh of this half in both 256-bit halves, shifted by 2 in the upper one: bits 0–1 / 4–5 for the values
        // from the first 32 ql bytes, bits 2–3 / 6–7 for those from the last 32.
        Vector256<byte> high = Vector256.Load(qh);   // not BroadcastVector256ToVector512: see Q4_KQ8Dot.Chunk64
        // One vinserti64x4: Vector512.Create(high, high) compiles to two inserts.
        Vector512<ushort> h = Avx512F.InsertVector256(high.ToVector512Unsafe(), high, 1).AsUInt16();
        Vector512<byte> hz = Avx512BW.ShiftRightLogicalVariable(h, highShift).AsByte();
        Vector512<byte> first = (l & low4) | (Vector512.ShiftLeft(hz.AsUInt16(), 4).AsByte() & bits45);
        Vector512<byte> second = (Vector512.ShiftRightLogical(l.AsUInt16(), 4).AsByte() & low4) | (hz & bits45);
        // u·q pairs ≤ 2·63·127 fit int16; |sc| ≤ 128 keeps the int32 lanes far from overflow.
        Vector512<short> p0 = Avx512BW.MultiplyAddAdjacent(first, Vector512.Load(x));
        Vector512<short> p1 = Avx512BW.MultiplyAddAdjacent(second, Vector512.Load(x + 64));
        return Avx512BW.MultiplyAddAdjacent(p0, Avx512BW.PermuteVar32x16(scales, firstGroups))
             + Avx512BW.MultiplyAddAdjacent(p1, Avx512BW.PermuteVar32x16(scales, secondGroups));
    }

    /// <summary>int16 lane k → scale g0 + k/8: the group of the pair of values a vpmaddubsw lane holds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> GroupIndex(int g0) =>
        Vector512.Create(Vector256.Create(Vector128.Create((short)g0), Vector128.Create((short)(g0 + 1))),
                         Vector256.Create(Vector128.Create((short)(g0 + 2)), Vector128.Create((short)(g0 + 3))));

    /// <summary>The same integer sums 32 values a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2(byte* row, sbyte* q, float* dq, short* bsums, int n)
    {
        Vector256<float> acc = Vector256<float>.Zero;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            sbyte* qb = q + b * BlockValues;
            Vector256<short> sc16 = Avx2Ops.ConvertToVector256Int16(Vector128.Load((sbyte*)(p + 192)));
            Vector256<int> isum = Half32(p, qb, sc16, 0) + Half32(p, qb, sc16, 1);
            isum -= Avx2Ops.MultiplyAddAdjacent(Vector256.Load(bsums + 16 * b), sc16) << 5;
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum), Vector256.Create(Widen.Half(p + 208) * dq[b]), acc);
        }
        return Vector256.Sum(acc);
    }

    /// <summary>Σ_g sc_g·Σ u·q over the 128 values of one half, as 8 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Half32(byte* p, sbyte* qb, Vector256<short> sc16, int half)
    {
        Vector256<byte> low4 = Vector256.Create((byte)0x0F), bits45 = Vector256.Create((byte)0x30);
        Vector256<byte> l0 = Vector256.Load(p + 64 * half), l1 = Vector256.Load(p + 64 * half + 32), h = Vector256.Load(p + 128 + 32 * half);
        // Byte-wise shifts through 16-bit lanes; the masks keep each byte's own bits.
        Vector256<byte> u0 = (l0 & low4) | (Vector256.ShiftLeft(h.AsUInt16(), 4).AsByte() & bits45);       // values 0–31: qh bits 0–1
        Vector256<byte> u1 = (l1 & low4) | (Vector256.ShiftLeft(h.AsUInt16(), 2).AsByte() & bits45);       // 32–63: bits 2–3
        Vector256<byte> u2 = (Vector256.ShiftRightLogical(l0.AsUInt16(), 4).AsByte() & low4) | (h & bits45);  // 64–95: bits 4–5
        Vector256<byte> u3 = (Vector256.ShiftRightLogical(l1.AsUInt16(), 4).AsByte() & low4) | (Vector256.ShiftRightLogical(h.AsUInt16(), 2).AsByte() & bits45); // 96–127: bits 6–7
        sbyte* x = qb + 128 * half;
        Vector256<int> s0 = Avx2Ops.MultiplyAddAdjacent(Avx2Ops.MultiplyAddAdjacent(u0, Vector256.Load(x)), GroupPair(sc16, 4 * half));
        Vector256<int> s1 = Avx2Ops.MultiplyAddAdjacent(Avx2Ops.MultiplyAddAdjacent(u1, Vector256.Load(x + 32)), GroupPair(sc16, 4 * half + 1));
        Vector256<int> s2 = Avx2Ops.MultiplyAddAdjacent(Avx2Ops.MultiplyAddAdjacent(u2, Vector256.Load(x + 64)), GroupPair(sc16, 4 * half + 2));
        Vector256<int> s3 = Avx2Ops.MultiplyAddAdjacent(Avx2Ops.MultiplyAddAdjacent(u3, Vector256.Load(x + 96)), GroupPair(sc16, 4 * half + 3));
        return (s0 + s1) + (s2 + s3);
    }

    /// <summary>int16 lanes 0–7 = scale 2k, lanes 8–15 = scale 2k+1: the 32-bit pair k broadcast, then split by 128-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> GroupPair(Vector256<short> sc16, int k)
    {
        Vector256<byte> pair = Avx2Ops.PermuteVar8x32(sc16.AsInt32(), Vector256.Create(k)).AsByte();
        return Avx2Ops.Shuffle(pair, Vector256.Create(Vector128.Create((ushort)0x0100).AsByte(), Vector128.Create((ushort)0x0302).AsByte())).AsInt16();
    }

    /// <summary>The plain reference: each 6-bit value unpacked by the spec formula, exact integer I per super-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Scalar(byte* row, sbyte* q, float* dq, short* bsums, int n)
    {
        float sum = 0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            byte* ql = p, qh = p + 128;
            sbyte* sc = (sbyte*)(p + 192);
            sbyte* qb = q + b * BlockValues;
            int integer = 0;
            for (int i = 0; i < BlockValues; i++)
            {
                int half = i / 128, g = (i % 128) / 32, l = i % 32;          // spec §3.2: value 128·half + 32·g + l
                byte lb = ql[64 * half + 32 * (g & 1) + l];
                int low4 = g < 2 ? lb & 15 : lb >> 4;
                int high2 = (qh[32 * half + l] >> (2 * g)) & 3;
                integer += sc[i / 16] * ((low4 | high2 << 4) - 32) * qb[i];
            }
            sum += Widen.Half(p + 208) * dq[b] * integer;
        }
        return sum;
    }
}
