using System.Runtime.Intrinsics;

namespace StepSharp.Tensors.Blocks;

/// <summary>
/// <see cref="GgmlType.Q6_KInterleaved"/>: Q6_K with its 6-bit values rearranged for the integer decode kernel
/// (<c>Kernels/Dot/Q6_KInterleavedQ8Dot</c>) into the lane order of <see cref="Q4_KInterleavedBlock"/>, so both
/// read the same permuted activations; made at load from Q6_K, the same 210 bytes, never written to a file.
/// In that order, lane 8g + i of vector k = 2v + h (v, g &lt; 4, h &lt; 2, i &lt; 8) is value 32(4h + g) + 8v + i.
/// Bytes 32m..32m+32 (m &lt; 6): lane L's byte holds vector m's value at lane L whole in bits 0–5, and in bits 6–7
/// bits 2(m mod 3), 2(m mod 3) + 1 of vector 6's (m &lt; 3) or vector 7's (m ≥ 3) value at lane L. Bytes 192–207: the
/// 16 int8 scales in the order of <see cref="ScaleOrder"/>; bytes 208–209: fp16 d, as in Q6_K.
/// </summary>
/// <remarks>
/// Six of the eight value vectors cost the kernel one AND each and the other two three bit-field moves and two ORs,
/// where Q6_K's split into 4 low and 2 high bits costs every vector a field, a move and an OR (58 → 46 vector
/// operations a row and super-block). The scale order puts the scales each 128-bit half of the kernel's four scale
/// vectors needs into that half of one sign-extending load, so each vector is one in-lane vpshufb.
/// </remarks>
internal static unsafe class Q6_KInterleavedBlock
{
    public const int Values = 256;
    public const int Bytes = 210;

    /// <summary>Scale s of Q6_K (16-value group s) is stored at byte 192 + <c>Array.IndexOf(ScaleOrder, s)</c>: groups 0–3 and 8–11, then 4–7 and 12–15.</summary>
    public static ReadOnlySpan<byte> ScaleOrder => [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15];

    /// <summary>The super-block value at lane <paramref name="lane"/> of permuted vector <paramref name="k"/>.</summary>
    public static int ValueAt(int k, int lane) => 32 * (4 * (k & 1) + lane / 8) + 8 * (k >> 1) + lane % 8;

    /// <summary>Rewrites <paramref name="blocks"/> consecutive Q6_K blocks at <paramref name="p"/> into this layout, in place.</summary>
    public static void FromQ6_K(byte* p, long blocks)
    {
        byte* natural = stackalloc byte[Values];
        byte* permuted = stackalloc byte[Values];
        for (long b = 0; b < blocks; b++, p += Bytes)
        {
            Q6_KValues(p, natural);
            Q4_KInterleavedBlock.PermuteValues(natural, permuted, Values);
            Vector256<byte> v6 = Vector256.Load(permuted + 192), v7 = Vector256.Load(permuted + 224);
            for (int m = 0; m < 6; m++)
            {
                // Bits 2(m mod 3), 2(m mod 3) + 1 of vector 6 or 7 into bits 6–7 of vector m's bytes.
                Vector256<byte> spare = (m < 3 ? v6 : v7) >>> (2 * (m % 3));
                (Vector256.Load(permuted + 32 * m) | spare << 6).Store(p + 32 * m);
            }
            uint* scales = (uint*)(p + 192);
            (scales[1], scales[2]) = (scales[2], scales[1]);   // groups 0–3, 8–11, 4–7, 12–15 (ScaleOrder)
        }
    }

    /// <summary>One block of this layout back to Q6_K, into <paramref name="dst"/> (210 bytes, not overlapping).</summary>
    public static void ToQ6_K(byte* src, byte* dst)
    {
        byte* natural = stackalloc byte[Values];
        byte* permuted = stackalloc byte[Values];
        Vector256<byte> six = Vector256.Create((byte)63), two = Vector256.Create((byte)3);
        Vector256<byte> v6 = Vector256<byte>.Zero, v7 = Vector256<byte>.Zero;
        for (int m = 0; m < 6; m++)
        {
            Vector256<byte> f = Vector256.Load(src + 32 * m);
            (f & six).Store(permuted + 32 * m);
            Vector256<byte> field = (f >>> 6) << (2 * (m % 3));
            if (m < 3) v6 |= field; else v7 |= field;
        }
        v6.Store(permuted + 192);
        v7.Store(permuted + 224);
        Q4_KInterleavedBlock.UnpermuteValues(permuted, natural);
        // ggml's Q6_K (dequantize_row_q6_K): in half h, quarter c of 32 values has its low 4 bits in nibble c / 2 of
        // ql[64h + 32(c mod 2) + l] and its high 2 bits at bits 2c of qh[32h + l].
        for (int h = 0; h < 2; h++)
        {
            Vector256<byte> c0 = Vector256.Load(natural + 128 * h), c1 = Vector256.Load(natural + 128 * h + 32);
            Vector256<byte> c2 = Vector256.Load(natural + 128 * h + 64), c3 = Vector256.Load(natural + 128 * h + 96);
            Vector256<byte> low = Vector256.Create((byte)15);
            ((c0 & low) | (c2 & low) << 4).Store(dst + 64 * h);
            ((c1 & low) | (c3 & low) << 4).Store(dst + 64 * h + 32);
            ((c0 >>> 4 & two) | (c1 >>> 4 & two) << 2 | (c2 >>> 4 & two) << 4 | (c3 >>> 4 & two) << 6).Store(dst + 128 + 32 * h);
        }
        uint* from = (uint*)(src + 192), to = (uint*)(dst + 192);
        (to[0], to[1], to[2], to[3]) = (from[0], from[2], from[1], from[3]);
        dst[208] = src[208];
        dst[209] = src[209];
    }

    /// <summary>The 256 6-bit values (0–63) of a Q6_K block in their order (see <see cref="ToQ6_K"/> for where they sit).</summary>
    private static void Q6_KValues(byte* block, byte* values)
    {
        Vector256<byte> low = Vector256.Create((byte)15), two = Vector256.Create((byte)3);
        for (int h = 0; h < 2; h++)
        {
            Vector256<byte> a = Vector256.Load(block + 64 * h), b = Vector256.Load(block + 64 * h + 32), hi = Vector256.Load(block + 128 + 32 * h);
            ((a & low) | (hi & two) << 4).Store(values + 128 * h);
            ((b & low) | (hi >>> 2 & two) << 4).Store(values + 128 * h + 32);
            ((a >>> 4) | (hi >>> 4 & two) << 4).Store(values + 128 * h + 64);
            ((b >>> 4) | (hi >>> 6) << 4).Store(values + 128 * h + 96);
        }
    }

    /// <summary>Values exactly as <see cref="Q6_KBlock.Dequantize"/> gives them for the Q6_K block this was made from.</summary>
    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        byte* q6k = stackalloc byte[Bytes];
        fixed (byte* p = block) ToQ6_K(p, q6k);
        Q6_KBlock.Dequantize(new ReadOnlySpan<byte>(q6k, Bytes), y);
    }
}
