using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Avx2Ops = System.Runtime.Intrinsics.X86.Avx2;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(Q4_K row, x) with x rounded to Q8_K blocks (<see cref="Q8KActivations"/>), llama.cpp's "Q4_K × Q8_K"
/// (spec gguf-format.md §4): per super-block, I = Σ_j sc_j·Σ_{i∈j} n_i·q_i and M = Σ_k bsums_k·m_{k/2}, then
/// s += (d·dx)·I − (dmin·dx)·M. Both sums are exact integers: the nibble products come from vpmaddubsw
/// (unsigned nibbles × signed int8) and the 6-bit scales are applied by vpmaddwd, so a super-block of 256
/// weights costs one int → float conversion instead of eight.
/// </summary>
internal static unsafe class Q4_KQ8Dot
{
    private const int BlockValues = 256, BlockBytes = 144;

    public static float Dot(Isa isa, byte* row, sbyte* q, float* dq, short* bsums, int n) => isa switch
    {
        Isa.Avx512 => Avx512(row, q, dq, bsums, n),
        Isa.Avx2 => Avx2(row, q, dq, bsums, n),
        _ => Scalar(row, q, dq, bsums, n),
    };

    /// <summary>
    /// 64 weights a vector: the 32 packed bytes of sub-blocks 2c and 2c+1 are broadcast to both halves of a
    /// 512-bit register and shifted by 0 (low nibbles: sub-block 2c) or 4 (high: 2c+1) per half, which puts the
    /// 64 values in the order of the 64 activations they multiply, so those are one contiguous load.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx512(byte* row, sbyte* q, float* dq, short* bsums, int n)
    {
        float* dd = stackalloc float[16];   // d of 8 super-blocks, then their dmin
        Vector512<float> acc = Vector512<float>.Zero;
        Vector256<float> accMins = Vector256<float>.Zero;
        Vector512<byte> mask = Vector512.Create((byte)15);
        Vector512<ushort> nibbleShift = Vector512.Create(Vector256<ushort>.Zero, Vector256.Create((ushort)4));
        // vpshufb controls spreading scale byte 2c over int16 lanes 0–15 and 2c+1 over 16–31 (0x80 zeroes the high byte).
        Vector512<byte> scale0 = ScaleControl(0), scale1 = ScaleControl(1), scale2 = ScaleControl(2), scale3 = ScaleControl(3);
        int blocks = n / BlockValues;
        for (int b = 0; b < blocks; b++)
        {
            byte* p = row + b * BlockBytes;
            sbyte* qb = q + b * BlockValues;
            if ((b & 7) == 0) SuperBlockScales(p, blocks - b, dd);
            var (scalesPacked, minsPacked) = Widen.KScalesPacked(p + 4);
            Vector512<byte> sc = Vector512.Create(scalesPacked).AsByte();
            // n·q pairs ≤ 2·15·127 and scales ≤ 63: every int32 lane stays far below 2³¹.
            Vector512<int> isum = (Chunk64(p + 16, qb, sc, scale0, mask, nibbleShift) + Chunk64(p + 48, qb + 64, sc, scale1, mask, nibbleShift))
                                + (Chunk64(p + 80, qb + 128, sc, scale2, mask, nibbleShift) + Chunk64(p + 112, qb + 192, sc, scale3, mask, nibbleShift));
            float da = dq[b];
            acc = Vector512.FusedMultiplyAdd(Vector512.ConvertToSingle(isum), Vector512.Create(dd[b & 7] * da), acc);
            accMins = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(MinsTimesBsums(minsPacked, bsums + 16 * b)), Vector256.Create(dd[8 + (b & 7)] * da), accMins);
        }
        return Vector512.Sum(acc) - Vector256.Sum(accMins);
    }

    /// <summary>sc_2c·Σ n·q + sc_2c+1·Σ n·q over the 64 values packed in the 32 bytes at <paramref name="w"/>, as 16 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Chunk64(byte* w, sbyte* x, Vector512<byte> sc, Vector512<byte> scaleControl, Vector512<byte> mask, Vector512<ushort> nibbleShift)
    {
        // Not Avx512F.BroadcastVector256ToVector512: the .NET 10 JIT encodes its memory operand's displacement
        // as if the load were 16 bytes wide (EVEX disp8·N with N = 16, not 32), so [p + 16] read p + 32.
        Vector256<byte> packed = Vector256.Load(w);
        Vector512<ushort> both = Vector512.Create(packed, packed).AsUInt16();
        Vector512<byte> values = Avx512BW.ShiftRightLogicalVariable(both, nibbleShift).AsByte() & mask;
        Vector512<short> pairs = Avx512BW.MultiplyAddAdjacent(values, Vector512.Load(x));
        return Avx512BW.MultiplyAddAdjacent(pairs, Avx512BW.Shuffle(sc, scaleControl).AsInt16());
    }

    /// <summary>The vpshufb control that spreads scale byte 2c to int16 lanes 0–15 and byte 2c+1 to lanes 16–31.</summary>
    private static Vector512<byte> ScaleControl(int c) =>
        Vector512.Create(Vector256.Create((ushort)(0x8000 | (2 * c))), Vector256.Create((ushort)(0x8000 | (2 * c + 1)))).AsByte();

    /// <summary>The same integer sums 32 weights a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2(byte* row, sbyte* q, float* dq, short* bsums, int n)
    {
        float* dd = stackalloc float[16];
        Vector256<float> acc = Vector256<float>.Zero, accMins = Vector256<float>.Zero;
        int blocks = n / BlockValues;
        for (int b = 0; b < blocks; b++)
        {
            byte* p = row + b * BlockBytes;
            sbyte* qb = q + b * BlockValues;
            if ((b & 7) == 0) SuperBlockScales(p, blocks - b, dd);
            var (scalesPacked, minsPacked) = Widen.KScalesPacked(p + 4);
            Vector256<byte> sc = Vector256.Create(scalesPacked).AsByte();
            Vector256<int> isum = (Chunk32(p, qb, sc, 0) + Chunk32(p, qb, sc, 1)) + (Chunk32(p, qb, sc, 2) + Chunk32(p, qb, sc, 3));
            float da = dq[b];
            acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum), Vector256.Create(dd[b & 7] * da), acc);
            accMins = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(MinsTimesBsums(minsPacked, bsums + 16 * b)), Vector256.Create(dd[8 + (b & 7)] * da), accMins);
        }
        return Vector256.Sum(acc) - Vector256.Sum(accMins);
    }

    /// <summary>
    /// <see cref="Avx2"/> for four rows <paramref name="rowBytes"/> apart, results to y[0..4). Decode rows are
    /// short (the mini model's expert down-projection has one super-block a row, Step 3.5 Flash's five), so the
    /// fixed costs of a row — scale unpacking and conversions, the mins term, the final horizontal sum — weigh as
    /// much as its products. Four rows share them: their 16-byte headers (d, dmin, 12 bytes of 6-bit scales) are
    /// transposed so one set of 128-bit operations unpacks the scales and mins of all four (instead of ~20 scalar
    /// operations a row), and the mins term of the four rows is one pair of vpmaddwd against the activations'
    /// 32-value sums. Used on the AVX-512 tier too: Zen 4 executes 512-bit integer ops as two halves, and a 512-bit
    /// form (measured 15.5–16.6 GB/s in cache against 16.0–18.9 for the 256-bit one) needs lane inserts and variable shifts.
    /// </summary>
    public static void Avx2Rows4(byte* row, long rowBytes, sbyte* q, float* dq, short* bsums, int n, float* y)
    {
        if (Widen.PrefetchesToL2(rowBytes)) Avx2Rows4<Widen.IntoL2>(row, rowBytes, q, dq, bsums, n, y);
        else Avx2Rows4<Widen.IntoL1>(row, rowBytes, q, dq, bsums, n, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Rows4<THint>(byte* row, long rowBytes, sbyte* q, float* dq, short* bsums, int n, float* y) where THint : struct, Widen.IPrefetchHint
    {
        float* scales = stackalloc float[8];    // d·dx, dmin·dx of rows 0..3, interleaved
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0, mins = acc0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p0 = row + b * BlockBytes, p1 = p0 + rowBytes, p2 = p1 + rowBytes, p3 = p2 + rowBytes;
            PrefetchNextRows<THint>(row, rowBytes, b * BlockBytes);
            sbyte* qb = q + b * BlockValues;
            Vector256<ulong> rowScaleBytes = Headers4(p0, p1, p2, p3, dq[b], bsums + 16 * b, scales, ref mins);
            acc0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Products(p0, qb, Avx2Ops.Permute4x64(rowScaleBytes, 0x00).AsByte())), Vector256.Create(scales[0]), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Products(p1, qb, Avx2Ops.Permute4x64(rowScaleBytes, 0x55).AsByte())), Vector256.Create(scales[2]), acc1);
            acc2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Products(p2, qb, Avx2Ops.Permute4x64(rowScaleBytes, 0xAA).AsByte())), Vector256.Create(scales[4]), acc2);
            acc3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Products(p3, qb, Avx2Ops.Permute4x64(rowScaleBytes, 0xFF).AsByte())), Vector256.Create(scales[6]), acc3);
        }
        Store4(acc0, acc1, acc2, acc3, mins, y);
    }

    /// <summary>
    /// The per-super-block work the four-row kernels share: the four rows' headers unpacked (<see cref="Headers4"/>),
    /// d·dx and dmin·dx of rows 0..3 interleaved into <paramref name="scales"/>[0..8), the mins term added to
    /// <paramref name="mins"/> (lanes 2r, 2r+1 hold row r's), and each row's 8 scale bytes in every 64-bit lane of
    /// its quarter of the result (row r: Permute4x64 by r·0x55), as vpshufb (in-lane) wants them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<ulong> Headers4(byte* p0, byte* p1, byte* p2, byte* p3, float dx, short* bsums, float* scales, ref Vector256<float> mins)
    {
        Vector256<ulong> rowScaleBytes = Headers4(p0, p1, p2, p3, dx, bsums, out Vector256<float> rowScales, ref mins);
        rowScales.Store(scales);
        return rowScaleBytes;
    }

    /// <summary>
    /// <see cref="Headers4(byte*, byte*, byte*, byte*, float, short*, float*, ref Vector256{float})"/> with d·dx, dmin·dx
    /// of rows 0..3 (interleaved) left in <paramref name="rowScales"/> rather than stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<ulong> Headers4(byte* p0, byte* p1, byte* p2, byte* p3, float dx, short* bsums, out Vector256<float> rowScales, ref Vector256<float> mins) =>
        Scales4(Headers4(p0, p1, p2, p3), dx, bsums, out rowScales, ref mins);

    /// <summary>
    /// <see cref="Headers4(byte*, byte*, byte*, byte*, float, short*, out Vector256{float}, ref Vector256{float})"/> from
    /// the four rows' headers already unpacked (<see cref="Unpack"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<ulong> Scales4((Vector128<uint> DAndMin, Vector128<uint> ScalesLo, Vector128<uint> MinsLo, Vector128<uint> ScalesHi, Vector128<uint> MinsHi) headers,
        float dx, short* bsums, out Vector256<float> rowScales, ref Vector256<float> mins)
    {
        var (dAndMin, scalesLo, minsLo, scalesHi, minsHi) = headers;
        rowScales = Widen.HalfBits256(Avx2Ops.ConvertToVector256Int32(dAndMin.AsUInt16()).AsUInt32()) * Vector256.Create(dx);
        // Mins: M_r = Σ_j m_rj·(bsums_2j + bsums_2j+1); lanes 2r, 2r+1 of the product hold row r's two halves.
        Vector256<int> pairSums = Avx2Ops.MultiplyAddAdjacent(Vector256.Load(bsums), Vector256.Create((short)1));
        Vector256<ulong> packed = Avx2Ops.PackSignedSaturate(pairSums, pairSums).AsUInt64(); // |Σ| ≤ 32·127: exact
        Vector256<int> m = Avx2Ops.MultiplyAddAdjacent(Avx2Ops.ConvertToVector256Int16(minsLo.AsByte()), Avx2Ops.Permute4x64(packed, 0x00).AsInt16())
                         + Avx2Ops.MultiplyAddAdjacent(Avx2Ops.ConvertToVector256Int16(minsHi.AsByte()), Avx2Ops.Permute4x64(packed, 0xAA).AsInt16());
        mins = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(m), Avx.DuplicateOddIndexed(rowScales), mins);
        return Vector256.Create(Sse2.UnpackLow(scalesLo, scalesHi), Sse2.UnpackHigh(scalesLo, scalesHi)).AsUInt64();
    }

    /// <summary>y[0..4) = the four rows' sums minus their mins terms (mins lanes 2r, 2r+1 → row r).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store4(Vector256<float> acc0, Vector256<float> acc1, Vector256<float> acc2, Vector256<float> acc3, Vector256<float> mins, float* y)
    {
        // The in-lane pair sums are in 64-bit lanes 0 and 2.
        Vector256<float> minPairs = Avx.HorizontalAdd(mins, mins);
        Vector128<float> rowMins = Avx2Ops.Permute4x64(minPairs.AsDouble(), 0b_00_00_10_00).GetLower().AsSingle();
        (Widen.Sums4(acc0, acc1, acc2, acc3) - rowMins).Store(y);
    }

    /// <summary>
    /// The 16-byte headers of four super-blocks transposed: d|dmin (fp16 pairs) of rows 0..3, and the rows' scale
    /// and min bytes for sub-blocks 0–3 and 4–7 (spec gguf-format.md §3.2 "Q4_K", the bit operations of
    /// <see cref="Widen.KScalesPacked"/> applied to four rows at once), each a 4-byte group per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector128<uint> DAndMin, Vector128<uint> ScalesLo, Vector128<uint> MinsLo, Vector128<uint> ScalesHi, Vector128<uint> MinsHi) Headers4(byte* p0, byte* p1, byte* p2, byte* p3)
    {
        Vector128<uint> h0 = Vector128.Load((uint*)p0), h1 = Vector128.Load((uint*)p1), h2 = Vector128.Load((uint*)p2), h3 = Vector128.Load((uint*)p3);
        Vector128<ulong> t0 = Sse2.UnpackLow(h0, h1).AsUInt64(), t1 = Sse2.UnpackLow(h2, h3).AsUInt64();
        Vector128<ulong> t2 = Sse2.UnpackHigh(h0, h1).AsUInt64(), t3 = Sse2.UnpackHigh(h2, h3).AsUInt64();
        return Unpack(Sse2.UnpackLow(t0, t1).AsUInt32(), Sse2.UnpackHigh(t0, t1).AsUInt32(), Sse2.UnpackLow(t2, t3).AsUInt32(), Sse2.UnpackHigh(t2, t3).AsUInt32());
    }

    /// <summary>
    /// The four rows' header words, transposed (<paramref name="dAndMin"/>: word 0 of rows 0..3, <paramref name="a"/>,
    /// <paramref name="b"/>, <paramref name="c"/>: words 1, 2, 3), unpacked into the rows' 6-bit scales and mins.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector128<uint> DAndMin, Vector128<uint> ScalesLo, Vector128<uint> MinsLo, Vector128<uint> ScalesHi, Vector128<uint> MinsHi) Unpack(
        Vector128<uint> dAndMin, Vector128<uint> a, Vector128<uint> b, Vector128<uint> c)
    {
        Vector128<uint> six = Vector128.Create(0x3f3f3f3fu), four = Vector128.Create(0x0f0f0f0fu), two = Vector128.Create(0x03030303u);
        return (dAndMin,
                a & six,
                b & six,
                (c & four) | (((a >> 6) & two) << 4),
                ((c >> 4) & four) | (((b >> 6) & two) << 4));
    }

    /// <summary>I = Σ_j sc_j·Σ_{i∈j} n_i·q_i of one row's super-block as 8 int32 lanes, with its 8 scale bytes in every 64-bit lane of <paramref name="sc"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Products(byte* p, sbyte* qb, Vector256<byte> sc) =>
        (Chunk32(p, qb, sc, 0) + Chunk32(p, qb, sc, 1)) + (Chunk32(p, qb, sc, 2) + Chunk32(p, qb, sc, 3));

    /// <summary>Prefetches the next four rows' super-block that is 4 blocks ahead in the four-row stream (see <see cref="Widen.PrefetchNextRows{THint}"/>), unrolled, with the hint the kernel was compiled for (<see cref="Widen.PrefetchesToL2"/> picks it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchNextRows<THint>(byte* firstRow, long rowBytes, int offset) where THint : struct, Widen.IPrefetchHint
    {
        // 4 × 144 = 576 bytes: nine cache lines.
        Widen.PrefetchLines9<THint>(firstRow + 4 * rowBytes + 4L * offset);
    }

    /// <summary>sc_2c·Σ n·q over sub-block 2c plus sc_2c+1·Σ n·q over sub-block 2c+1 (32 packed bytes), as 8 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Chunk32(byte* p, sbyte* qb, Vector256<byte> sc, int c)
    {
        Vector256<byte> mask = Vector256.Create((byte)15);
        Vector256<byte> w = Vector256.Load(p + 16 + 32 * c);
        Vector256<short> lo = Avx2Ops.MultiplyAddAdjacent(w & mask, Vector256.Load(qb + 64 * c));
        Vector256<short> hi = Avx2Ops.MultiplyAddAdjacent(Vector256.ShiftRightLogical(w.AsUInt16(), 4).AsByte() & mask, Vector256.Load(qb + 64 * c + 32));
        Vector256<short> sLo = Avx2Ops.Shuffle(sc, Vector256.Create((ushort)(0x8000 | (2 * c))).AsByte()).AsInt16();
        Vector256<short> sHi = Avx2Ops.Shuffle(sc, Vector256.Create((ushort)(0x8000 | (2 * c + 1))).AsByte()).AsInt16();
        return Avx2Ops.MultiplyAddAdjacent(lo, sLo) + Avx2Ops.MultiplyAddAdjacent(hi, sHi);
    }

    /// <summary>Σ_k bsums_k·m_{k/2} of one super-block as 8 int32 partial sums (the mins term M).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MinsTimesBsums(ulong minsPacked, short* bsums)
    {
        Vector128<short> m = Sse41.ConvertToVector128Int16(Vector128.CreateScalarUnsafe(minsPacked).AsByte());
        Vector256<short> pairs = Vector256.Create(Sse2.UnpackLow(m, m), Sse2.UnpackHigh(m, m));
        return Avx2Ops.MultiplyAddAdjacent(Vector256.Load(bsums), pairs);
    }

    /// <summary>d and dmin of the next 8 super-blocks (or of the last <paramref name="left"/> ones) into dd[0..8) and dd[8..16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SuperBlockScales(byte* p, int left, float* dd)
    {
        if (left >= 8) Widen.SuperBlockScales8(p, BlockBytes, dd, dd + 8);
        else for (int k = 0; k < left; k++) (dd[k], dd[8 + k]) = (Widen.Half(p + k * BlockBytes), Widen.Half(p + k * BlockBytes + 2));
    }

    /// <summary>The plain reference: llama.cpp's formula with exact integer I and M per super-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Scalar(byte* row, sbyte* q, float* dq, short* bsums, int n)
    {
        byte* sm = stackalloc byte[16];
        float sum = 0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            float d = Widen.Half(p), dmin = Widen.Half(p + 2);
            Widen.KScales(p + 4, sm);
            int integer = 0, mins = 0;
            for (int j = 0; j < 8; j++)
            {
                byte* qs = p + 16 + 32 * (j / 2);
                sbyte* qj = q + b * BlockValues + 32 * j;
                int s = 0;
                for (int l = 0; l < 32; l++) s += ((j & 1) == 0 ? qs[l] & 15 : qs[l] >> 4) * qj[l];
                integer += sm[j] * s;
            }
            for (int k = 0; k < 16; k++) mins += bsums[16 * b + k] * sm[8 + k / 2];
            sum += d * dq[b] * integer - dmin * dq[b] * mins;
        }
        return sum;
    }
}
