using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// Small building blocks shared by the fused dot kernels: integer lanes widened to f32, fp16 scales
/// read without <see cref="Half"/>'s software conversion (a few ns each, which would cost more than a
/// whole Q8_0 block), horizontal sums.
/// </summary>
internal static unsafe class Widen
{
    /// <summary>2¹¹²: the exponent-bias difference between binary16 (15) and binary32 (127).</summary>
    private const float TwoPow112 = 5.192296858534828E+33f;

    /// <summary>
    /// IEEE binary16 at <paramref name="p"/> widened exactly to f32. Shifting the 15 magnitude bits into f32
    /// position and multiplying by 2¹¹² rebiases the exponent (and normalises subnormals) in one exact
    /// multiplication; only Inf/NaN need their exponent forced to all-ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Half(byte* p)
    {
        uint h = *(ushort*)p;
        uint magnitude = (h & 0x7fff) << 13;
        float f = BitConverter.UInt32BitsToSingle(magnitude) * TwoPow112;
        uint bits = (h & 0x7c00) == 0x7c00 ? magnitude | 0x7f800000 : BitConverter.SingleToUInt32Bits(f);
        return BitConverter.UInt32BitsToSingle(bits | (h & 0x8000) << 16);
    }

    /// <summary>bfloat16 at <paramref name="p"/>: the top half of an f32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float BFloat16(byte* p) => BitConverter.UInt32BitsToSingle((uint)*(ushort*)p << 16);

    /// <summary>16 signed bytes → 16 floats (vpmovsxbd + vcvtdq2ps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SBytes512(Vector128<sbyte> v) => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(v));

    /// <summary>16 unsigned bytes → 16 floats (vpmovzxbd + vcvtdq2ps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Bytes512(Vector128<byte> v) => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(v));

    /// <summary>The low 8 signed bytes → 8 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SBytes256(Vector128<sbyte> v) => Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(v));

    /// <summary>The low 8 unsigned bytes → 8 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Bytes256(Vector128<byte> v) => Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(v));

    /// <summary>The high 8 bytes of a 128-bit vector moved to the low half (for the second <see cref="Bytes256"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> High8<T>(Vector128<T> v) where T : unmanaged => Sse2.ShiftRightLogical128BitLane(v.AsByte(), 8).As<byte, T>();

    /// <summary>
    /// 16 fp16 values → 16 floats with integer ops (.NET 10 exposes no 512-bit vcvtph2ps): the same
    /// exact rebias-by-multiplication as <see cref="Half"/>, lane-wise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Halves512(Vector256<ushort> h)
    {
        Vector512<uint> u = Avx512F.ConvertToVector512UInt32(h);
        Vector512<uint> magnitude = (u & Vector512.Create(0x7fffu)) << 13;
        Vector512<float> f = magnitude.AsSingle() * Vector512.Create(TwoPow112);
        Vector512<uint> special = Vector512.Equals(u & Vector512.Create(0x7c00u), Vector512.Create(0x7c00u));
        Vector512<uint> bits = Vector512.ConditionalSelect(special, magnitude | Vector512.Create(0x7f800000u), f.AsUInt32());
        return (bits | (u & Vector512.Create(0x8000u)) << 16).AsSingle();
    }

    /// <summary>8 fp16 values → 8 floats, the integer way of <see cref="Halves512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Halves256(Vector128<ushort> h) => HalfBits256(Avx2.ConvertToVector256Int32(h).AsUInt32());

    /// <summary>8 fp16 bit patterns, one in the low 16 bits of each lane (upper bits zero) → 8 floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> HalfBits256(Vector256<uint> u)
    {
        Vector256<uint> magnitude = (u & Vector256.Create(0x7fffu)) << 13;
        Vector256<float> f = magnitude.AsSingle() * Vector256.Create(TwoPow112);
        Vector256<uint> special = Vector256.Equals(u & Vector256.Create(0x7c00u), Vector256.Create(0x7c00u));
        Vector256<uint> bits = Vector256.ConditionalSelect(special, magnitude | Vector256.Create(0x7f800000u), f.AsUInt32());
        return (bits | (u & Vector256.Create(0x8000u)) << 16).AsSingle();
    }

    /// <summary>
    /// 16 finite fp16 values (no inf/NaN) → 16 floats, exactly, in 4 operations instead of <see cref="Halves512"/>'s
    /// ~11: sign-extended and shifted, the sign lands in bit 31 and exponent and mantissa in a float's (the exponent
    /// 112 too small, subnormals as float subnormals), and the product with 2^112 is the value. An fp16 inf or NaN
    /// would come out as a finite number: callers make sure there is none.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FiniteHalves512(Vector256<short> h) =>
        ((Avx512F.ConvertToVector512Int32(h) << 13) & Vector512.Create(unchecked((int)0x8fffffff))).AsSingle() * Vector512.Create(TwoPow112);

    /// <summary><see cref="FiniteHalves512"/> for 8 values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FiniteHalves256(Vector128<short> h) =>
        ((Avx2.ConvertToVector256Int32(h) << 13) & Vector256.Create(unchecked((int)0x8fffffff))).AsSingle() * Vector256.Create(TwoPow112);

    /// <summary>2^56: <see cref="FiniteHalvesOver2Pow56"/> gives fp16 values times 2^-56; a factor that carries 2^56 undoes it exactly.</summary>
    public const float TwoPow56 = 72057594037927936f;

    /// <summary>
    /// 8 finite fp16 values (no inf/NaN: the weight layouts that use this hold only finite scales, see
    /// <see cref="KernelWeightLayouts"/>) times 2^-56, in 4 operations instead of <see cref="Halves256"/>'s 11: sign-extended
    /// and shifted into a float's sign, exponent and mantissa fields, the bits are the value times 2^-112 exactly
    /// (subnormals too), then times 2^56. Multiplied by a factor times 2^56 (exact while that factor is below 2^72),
    /// the product is the one the exact conversion gives, rounded once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FiniteHalvesOver2Pow56(Vector128<short> h) =>
        ((Avx2.ConvertToVector256Int32(h) << 13) & Vector256.Create(unchecked((int)0x8fffffff))).AsSingle() * Vector256.Create(TwoPow56);

    /// <summary>
    /// The fp16 scales of 8 consecutive blocks of <paramref name="blockBytes"/> bytes whose scale is at byte
    /// offset 0, as 8 floats: eight 16-bit loads and ~10 vector ops instead of eight scalar conversions of ~10 ops
    /// each, which cost as much as a Q8_0 block's whole dot product. (A vpgatherdd is slower on Zen 4: measured
    /// 16–20 GB/s for the Q8_0 int8 kernel with it, 22–24 with these loads, 30 with no conversion at all.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> BlockScales8(byte* p, int blockBytes)
    {
        // Packed four to a 64-bit register by the scalar ALUs, then two vector moves: the eight vpinsrd of a
        // Vector256.Create of the loads are two uops each on the vector pipes the dot products need (the Q8_0
        // four-row kernel: 27 -> 32 GB/s in cache).
        ulong lo = *(ushort*)p | (ulong)*(ushort*)(p + blockBytes) << 16 | (ulong)*(ushort*)(p + 2 * blockBytes) << 32 | (ulong)*(ushort*)(p + 3 * blockBytes) << 48;
        ulong hi = *(ushort*)(p + 4 * blockBytes) | (ulong)*(ushort*)(p + 5 * blockBytes) << 16 | (ulong)*(ushort*)(p + 6 * blockBytes) << 32 | (ulong)*(ushort*)(p + 7 * blockBytes) << 48;
        return Halves256(Vector128.Create(lo, hi).AsUInt16());
    }

    /// <summary>Σ v[i]·x[i] over 32 unsigned byte values, as 16 partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Dot32(Vector256<byte> v, float* x) =>
        Vector512.FusedMultiplyAdd(Bytes512(v.GetUpper()), Vector512.Load(x + 16), Bytes512(v.GetLower()) * Vector512.Load(x));

    /// <summary>Σ v[i]·x[i] over 32 unsigned byte values, as 8 partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Dot32Avx2(Vector256<byte> v, float* x)
    {
        Vector128<byte> lo = v.GetLower(), hi = v.GetUpper();
        Vector256<float> s0 = Bytes256(lo) * Vector256.Load(x);
        Vector256<float> s1 = Bytes256(High8(lo)) * Vector256.Load(x + 8);
        s0 = Vector256.FusedMultiplyAdd(Bytes256(hi), Vector256.Load(x + 16), s0);
        s1 = Vector256.FusedMultiplyAdd(Bytes256(High8(hi)), Vector256.Load(x + 24), s1);
        return s0 + s1;
    }

    /// <summary>
    /// d and dmin (the two fp16 at offsets 0 and 2) of 8 consecutive K-quant super-blocks, as 8 floats each,
    /// from one gather; stored to <paramref name="d"/>[0..8) and <paramref name="dmin"/>[0..8).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SuperBlockScales8(byte* firstBlock, int blockBytes, float* d, float* dmin)
    {
        Vector256<uint> raw = Avx2.GatherVector256((int*)firstBlock, Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * blockBytes, 1).AsUInt32();
        HalfBits256(raw & Vector256.Create(0xffffu)).Store(d);
        HalfBits256(raw >> 16).Store(dmin);
    }

    /// <summary>scale · b[j] for the 8 bytes of <paramref name="b"/> (the K-quant sub-block scales times the super-block d).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ScaledBytes8(ulong b, float scale) =>
        Bytes256(Vector128.CreateScalarUnsafe(b).AsByte()) * Vector256.Create(scale);

    /// <summary>m[j]·xSums[j] for the eight 6-bit mins of a K-quant super-block (the "−m1·Σx" terms of its eight sub-blocks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MinsTimesSums(ulong mins, float* xSums) =>
        Bytes256(Vector128.CreateScalarUnsafe(mins).AsByte()) * Vector256.Load(xSums);

    /// <summary>
    /// True when the next four rows are prefetched into L2 rather than L1: the prefetch runs one four-row group
    /// ahead, and a group of more than 8 KB (e.g. Q4_K rows of 4096 values) would push the rows being read out
    /// of the 32 KB L1. Measured on 4096 Q4_K rows from DRAM, one thread (noisy machine, means of 3–4 runs):
    /// 11264 values a row 11 → 14–19 GB/s with L2 hints, 4096 values 13 → 15.5, 1024 values (2.3 KB groups)
    /// 14 → 10, and the mini model's decode (1024 and 256 values) loses a third with L2 hints.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool PrefetchesToL2(long rowBytes) => rowBytes > 2048;

    /// <summary>
    /// A prefetch instruction chosen by type: a kernel generic over it (<c>where T : struct, IPrefetchHint</c>) is
    /// compiled once per hint, without the test and branch per prefetch that a run-time flag costs (the Q4_K
    /// four-row kernels: 9 prefetches a step, ~7 % of their time in cache). Kernels pick the hint once per call
    /// with <see cref="PrefetchesToL2"/>.
    /// </summary>
    internal interface IPrefetchHint
    {
        static abstract void Line(byte* p);
    }

    /// <summary>prefetcht0: into L1.</summary>
    internal readonly struct IntoL1 : IPrefetchHint
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Line(byte* p) => Sse.Prefetch0(p);
    }

    /// <summary>prefetcht1: into L2.</summary>
    internal readonly struct IntoL2 : IPrefetchHint
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Line(byte* p) => Sse.Prefetch1(p);
    }

    /// <summary>
    /// Prefetches the bytes of the next four rows that correspond to byte <paramref name="offset"/> of the
    /// current four (4 × offset into the next group) for a four-row kernel step that covers
    /// <paramref name="blockBytes"/> bytes of each row. The four interleaved short streams of the four-row kernels
    /// defeat the hardware prefetcher that a one-row-after-another scan trains perfectly: without this the
    /// four-row Q8_0 kernel ran the mini model's decode at half the speed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchNextRows<THint>(byte* firstRow, long rowBytes, int offset, int blockBytes) where THint : struct, IPrefetchHint
    {
        byte* next = firstRow + 4 * rowBytes + 4L * offset;
        for (int i = 0; i < 4 * blockBytes; i += 64) THint.Line(next + i);
    }

    /// <summary>Prefetches the three cache lines from <paramref name="p"/> (a four-row kernel step of up to 136 bytes: one Q8_0 block a row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchLines3<THint>(byte* p) where THint : struct, IPrefetchHint
    {
        THint.Line(p);
        THint.Line(p + 64);
        THint.Line(p + 128);
    }

    /// <summary>
    /// Prefetches the 9 cache lines from <paramref name="p"/> (576 bytes: one Q4_K super-block of four rows), unrolled.
    /// Over rows stored in groups (<see cref="Tensors.Blocks.InMemoryLayouts"/>) a kernel step prefetches its own
    /// lines before its loads, so that all their misses are in flight at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchLines9<THint>(byte* p) where THint : struct, IPrefetchHint
    {
        PrefetchLines3<THint>(p);
        PrefetchLines3<THint>(p + 192);
        PrefetchLines3<THint>(p + 384);
    }

    /// <summary>As <see cref="PrefetchLines9{THint}"/> for 14 lines into L1 (840 bytes: one Q6_K super-block of four rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PrefetchLines14(byte* p)
    {
        PrefetchLines9<IntoL1>(p);
        PrefetchLines3<IntoL1>(p + 576);
        Sse.Prefetch0(p + 768);
        Sse.Prefetch0(p + 832);
    }

    /// <summary>The totals of four 8-lane vectors as one 4-lane vector (three horizontal adds instead of four reductions).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sums4(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3)
    {
        // hadd(v0, v1) = [v0 pairs 0–3, v1 pairs 0–3 | the same of lanes 4–7]; a second hadd finishes each quarter.
        Vector256<float> t = Avx.HorizontalAdd(Avx.HorizontalAdd(v0, v1), Avx.HorizontalAdd(v2, v3));
        return t.GetLower() + t.GetUpper();
    }

    /// <summary>
    /// dst[g] = Σ x[32g .. 32g + 32): the per-sub-block sums of x that the K-quant kernels need for their
    /// "min" term. Computed once per activation vector and shared by every row, instead of once per row.
    /// </summary>
    public static void GroupSums32(float* x, int n, float* dst)
    {
        for (int g = 0; g < n / 32; g++)
        {
            float* xg = x + 32 * g;
            if (Vector256.IsHardwareAccelerated)
            {
                dst[g] = Vector256.Sum((Vector256.Load(xg) + Vector256.Load(xg + 8)) + (Vector256.Load(xg + 16) + Vector256.Load(xg + 24)));
            }
            else
            {
                float s = 0;
                for (int i = 0; i < 32; i++) s += xg[i];
                dst[g] = s;
            }
        }
    }

    /// <summary>
    /// <see cref="KScales"/> kept in registers: the 8 scales and the 8 mins as the bytes of two 64-bit values.
    /// The vector kernels use this form: reading 8 bytes back from two 4-byte stores defeats store-to-load
    /// forwarding and stalls every super-block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (ulong Scales, ulong Mins) KScalesPacked(byte* s)
    {
        uint a = *(uint*)s, b = *(uint*)(s + 4), c = *(uint*)(s + 8);
        uint sc47 = (c & 0x0f0f0f0f) | ((a >> 6) & 0x03030303) << 4;
        uint m47 = ((c >> 4) & 0x0f0f0f0f) | ((b >> 6) & 0x03030303) << 4;
        return ((a & 0x3f3f3f3f) | (ulong)sc47 << 32, (b & 0x3f3f3f3f) | (ulong)m47 << 32);
    }

    /// <summary>
    /// Unpacks the 12-byte K-quant scale field (spec gguf-format.md §3.2 "Q4_K", see KScales6) into
    /// scales[0..8) and mins[8..16) of <paramref name="dst"/>, four values per 32-bit operation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void KScales(byte* s, byte* dst)
    {
        uint a = *(uint*)s, b = *(uint*)(s + 4), c = *(uint*)(s + 8);
        ((uint*)dst)[0] = a & 0x3f3f3f3f;
        ((uint*)dst)[1] = (c & 0x0f0f0f0f) | ((a >> 6) & 0x03030303) << 4;
        ((uint*)dst)[2] = b & 0x3f3f3f3f;
        ((uint*)dst)[3] = ((c >> 4) & 0x0f0f0f0f) | ((b >> 6) & 0x03030303) << 4;
    }
}
