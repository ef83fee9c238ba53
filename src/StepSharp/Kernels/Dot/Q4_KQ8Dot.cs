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
    /// fixed costs of a row — scale conversions, the final horizontal sum, the call — weigh as much as its
    /// products; four rows share them (one conversion of their four d/dmin pairs, one transposed reduction).
    /// Used on the AVX-512 tier too: Zen 4 executes 512-bit integer ops as two halves, and a 512-bit form
    /// (measured 15.5–16.6 GB/s in cache against 16.0–18.9 for this one) needs lane inserts and variable shifts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Avx2Rows4(byte* row, long rowBytes, sbyte* q, float* dq, short* bsums, int n, float* y)
    {
        float* scales = stackalloc float[8];
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        Vector256<float> mins0 = acc0, mins1 = acc0, mins2 = acc0, mins3 = acc0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p0 = row + b * BlockBytes, p1 = p0 + rowBytes, p2 = p1 + rowBytes, p3 = p2 + rowBytes;
            Widen.PrefetchNextRows(row, rowBytes, b * BlockBytes, BlockBytes);
            sbyte* qb = q + b * BlockValues;
            short* bs = bsums + 16 * b;
            Vector128<uint> raw = Vector128.Create(*(uint*)p0, *(uint*)p1, *(uint*)p2, *(uint*)p3);
            (Widen.HalfBits256(Avx2Ops.ConvertToVector256Int32(raw.AsUInt16()).AsUInt32()) * Vector256.Create(dq[b])).Store(scales);
            acc0 = Row256(p0, qb, bs, scales[0], scales[1], ref mins0, acc0);
            acc1 = Row256(p1, qb, bs, scales[2], scales[3], ref mins1, acc1);
            acc2 = Row256(p2, qb, bs, scales[4], scales[5], ref mins2, acc2);
            acc3 = Row256(p3, qb, bs, scales[6], scales[7], ref mins3, acc3);
        }
        Widen.Sums4(acc0 - mins0, acc1 - mins1, acc2 - mins2, acc3 - mins3).Store(y);
    }

    /// <summary>One row's super-block at <paramref name="p"/> with 256-bit vectors: acc + (d·dx)·I, and mins += (dmin·dx)·M.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row256(byte* p, sbyte* qb, short* bsums, float dScale, float minScale, ref Vector256<float> mins, Vector256<float> acc)
    {
        var (scalesPacked, minsPacked) = Widen.KScalesPacked(p + 4);
        Vector256<byte> sc = Vector256.Create(scalesPacked).AsByte();
        Vector256<int> isum = (Chunk32(p, qb, sc, 0) + Chunk32(p, qb, sc, 1)) + (Chunk32(p, qb, sc, 2) + Chunk32(p, qb, sc, 3));
        mins = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(MinsTimesBsums(minsPacked, bsums)), Vector256.Create(minScale), mins);
        return Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(isum), Vector256.Create(dScale), acc);
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
