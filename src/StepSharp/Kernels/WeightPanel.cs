using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using StepSharp.Kernels.Dot;
using StepSharp.Tensors;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Kernels;

/// <summary>
/// Decodes a K-panel (a block-aligned slice of a few weight rows) into a small f32 tile that stays in L1
/// while prefill applies it to every token. This is the only place weights are decoded to memory, one
/// panel of ≤ 4 × <see cref="MatMul.PanelValues"/> values at a time, never a whole row. Values are exactly
/// the reference dequantization's (Dequantize.Row), so prefill reproduces "dequantize then F32" up to the
/// order of additions.
/// </summary>
internal static unsafe class WeightPanel
{
    /// <summary>
    /// Decodes values [k0, k0 + len) of a row (both multiples of the type's block size) into <paramref name="dst"/>;
    /// in an in-memory layout <paramref name="row"/> is the row's first block, the others are four apart, and
    /// <paramref name="rowInGroup"/> is the row's place in its group (ignored for file types).
    /// </summary>
    public static void Decode(GgmlType type, byte* row, int rowInGroup, int k0, int len, float* dst, Isa isa)
    {
        int blockValues = GgmlTypeInfo.BlockSize(type);
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        if (GgmlTypeInfo.IsInMemoryLayout(type))
        {
            DecodeInterleaved(type, row + k0 / blockValues * InMemoryLayouts.BlockStride(type), rowInGroup, len / 256, dst, isa);
            return;
        }
        byte* src = row + (long)(k0 / blockValues) * blockBytes;
        // The same arithmetic 16 or 8 values a vector (on a machine without AVX-512 the scalar reference here was ~15 %
        // of a one-thread mini Q4_K_M pp512: perf, STEPSHARP_ISA=avx2).
        if (isa == Isa.Avx512 && DecodeVectors<Lanes16>(type, src, len, dst)) return;
        if (isa == Isa.Avx2 && DecodeVectors<Lanes8>(type, src, len, dst)) return;
        Dequantize.Row(type, new ReadOnlySpan<byte>(src, len / blockValues * blockBytes), new Span<float>(dst, len));
    }

    /// <summary>Each 256 values of an in-memory layout turned back into the file type on the stack, then decoded as that: the same values bit for bit.</summary>
    private static void DecodeInterleaved(GgmlType layout, byte* src, int rowInGroup, int blocks, float* dst, Isa isa)
    {
        GgmlType fileType = InMemoryLayouts.FileType(layout);
        long stride = InMemoryLayouts.BlockStride(layout);
        byte* block = stackalloc byte[InMemoryLayouts.MaxBlockBytes];
        for (int b = 0; b < blocks; b++, src += stride, dst += 256)
        {
            InMemoryLayouts.ToFileLayout(layout, src, rowInGroup, block);
            Decode(fileType, block, 0, 0, 256, dst, isa);
        }
    }

    /// <summary>Q8_0, Q4_K or Q6_K with vectors of <typeparamref name="TLanes"/>; false for other types.</summary>
    private static bool DecodeVectors<TLanes>(GgmlType type, byte* src, int len, float* dst) where TLanes : struct, IPanelLanes
    {
        switch (type)
        {
            case GgmlType.Q8_0: DecodeQ8_0<TLanes>(src, len / 32, dst); return true;
            case GgmlType.Q4_K: DecodeQ4_K<TLanes>(src, len / 256, dst); return true;
            case GgmlType.Q6_K: DecodeQ6_K<TLanes>(src, len / 256, dst); return true;
            default: return false;
        }
    }

    /// <summary>Q8_0 (spec §3.1): q·d with the same single rounding as the reference's (sbyte)q * d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeQ8_0<TLanes>(byte* src, int blocks, float* dst) where TLanes : struct, IPanelLanes
    {
        for (int b = 0; b < blocks; b++, src += 34, dst += 32)
        {
            float d = Widen.Half(src);
            TLanes.Signed(Vector128.Load((sbyte*)src + 2), d, dst);
            TLanes.Signed(Vector128.Load((sbyte*)src + 18), d, dst + 16);
        }
    }

    /// <summary>
    /// Q4_K (spec §3.2): (d·sc)·n − dmin·m as a multiply then a subtract, the reference's two roundings
    /// (vector operators are never fused into an FMA), so the values are bit-identical.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeQ4_K<TLanes>(byte* src, int blocks, float* dst) where TLanes : struct, IPanelLanes
    {
        byte* sm = stackalloc byte[16];
        for (int b = 0; b < blocks; b++, src += 144, dst += 256)
        {
            float d = Widen.Half(src), dmin = Widen.Half(src + 2);
            Widen.KScales(src + 4, sm);
            for (int c = 0; c < 4; c++)
            {
                Vector128<byte> q0 = Vector128.Load(src + 16 + 32 * c), q1 = Vector128.Load(src + 32 + 32 * c);
                Vector128<byte> mask = Vector128.Create((byte)15);
                float d1 = d * sm[2 * c], m1 = dmin * sm[8 + 2 * c], d2 = d * sm[2 * c + 1], m2 = dmin * sm[9 + 2 * c];
                TLanes.Unsigned(q0 & mask, d1, m1, dst + 64 * c);
                TLanes.Unsigned(q1 & mask, d1, m1, dst + 64 * c + 16);
                TLanes.Unsigned(Vector128.ShiftRightLogical(q0, 4), d2, m2, dst + 64 * c + 32);
                TLanes.Unsigned(Vector128.ShiftRightLogical(q1, 4), d2, m2, dst + 64 * c + 48);
            }
        }
    }

    /// <summary>Q6_K (spec §3.2, §3.4): (d·scale)·q with the reference's rounding of d·scale, then of the product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeQ6_K<TLanes>(byte* src, int blocks, float* dst) where TLanes : struct, IPanelLanes
    {
        for (int b = 0; b < blocks; b++, src += 210, dst += 256)
        {
            sbyte* scales = (sbyte*)(src + 192);
            float d = Widen.Half(src + 208);
            for (int h = 0; h < 2; h++)
            {
                Vector128<byte> qh0 = Vector128.Load(src + 128 + 32 * h), qh1 = Vector128.Load(src + 144 + 32 * h);
                for (int g = 0; g < 4; g++)
                {
                    byte* ql = src + 64 * h + 32 * (g & 1);
                    Vector128<byte> l0 = Vector128.Load(ql), l1 = Vector128.Load(ql + 16);
                    if (g >= 2) { l0 = Vector128.ShiftRightLogical(l0, 4); l1 = Vector128.ShiftRightLogical(l1, 4); }
                    Vector128<byte> mask = Vector128.Create((byte)15), three = Vector128.Create((byte)3);
                    Vector128<byte> v0 = (l0 & mask) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh0, 2 * g) & three, 4);
                    Vector128<byte> v1 = (l1 & mask) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh1, 2 * g) & three, 4);
                    float* o = dst + 128 * h + 32 * g;
                    TLanes.Signed((v0 - Vector128.Create((byte)32)).AsSByte(), d * scales[8 * h + 2 * g], o);
                    TLanes.Signed((v1 - Vector128.Create((byte)32)).AsSByte(), d * scales[8 * h + 2 * g + 1], o + 16);
                }
            }
        }
    }

    /// <summary>How the panel decoders turn 16 integers into 16 floats: one 512-bit vector or two 256-bit ones.</summary>
    private interface IPanelLanes
    {
        /// <summary>o[0..16) = v·scale (one rounding).</summary>
        static abstract void Signed(Vector128<sbyte> v, float scale, float* o);

        /// <summary>o[0..16) = v·scale − offset (two roundings, as the reference).</summary>
        static abstract void Unsigned(Vector128<byte> v, float scale, float offset, float* o);
    }

    private readonly struct Lanes16 : IPanelLanes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Signed(Vector128<sbyte> v, float scale, float* o) => (Widen.SBytes512(v) * Vector512.Create(scale)).Store(o);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unsigned(Vector128<byte> v, float scale, float offset, float* o) =>
            (Widen.Bytes512(v) * Vector512.Create(scale) - Vector512.Create(offset)).Store(o);
    }

    private readonly struct Lanes8 : IPanelLanes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Signed(Vector128<sbyte> v, float scale, float* o)
        {
            Vector256<float> s = Vector256.Create(scale);
            (Widen.SBytes256(v) * s).Store(o);
            (Widen.SBytes256(Widen.High8(v)) * s).Store(o + 8);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unsigned(Vector128<byte> v, float scale, float offset, float* o)
        {
            Vector256<float> s = Vector256.Create(scale), m = Vector256.Create(offset);
            (Widen.Bytes256(v) * s - m).Store(o);
            (Widen.Bytes256(Widen.High8(v)) * s - m).Store(o + 8);
        }
    }
}
