namespace StepSharp.Tensors.Blocks;

/// <summary>
/// <see cref="GgmlType.Q6_KInterleaved"/>: Q6_K with its 6-bit values rearranged for the integer decode kernel
/// (<c>Kernels/Dot/Q6_KInterleavedQ8Dot</c>) into the lane order of <see cref="Q4_KInterleavedBlock"/>, so both
/// read the same permuted activations; made at load from Q6_K, the same 210 bytes, never written to a file.
/// In that order, lane 8g + i of vector k = 2v + h (v, g &lt; 4, h &lt; 2, i &lt; 8) is value 32(4h + g) + 8v + i.
/// Bytes 0–127: the low 4 bits, vector k's in the low (h = 0) or high (h = 1) nibbles of bytes 32v..32v+32;
/// bytes 128–191: the high 2 bits, vector k's at bits 2(k mod 4) of bytes 128 + 32(k/4)..+32; bytes 192–209 (16 int8
/// scales, fp16 d) are Q6_K's.
/// </summary>
internal static unsafe class Q6_KInterleavedBlock
{
    public const int Values = 256;
    public const int Bytes = 210;

    /// <summary>The super-block value at lane <paramref name="lane"/> of permuted vector <paramref name="k"/>.</summary>
    public static int ValueAt(int k, int lane) => 32 * (4 * (k & 1) + lane / 8) + 8 * (k >> 1) + lane % 8;

    /// <summary>Rewrites <paramref name="blocks"/> consecutive Q6_K blocks at <paramref name="p"/> into this layout, in place.</summary>
    /// <remarks>
    /// In 8-byte words (lanes i = 0..7 stay together): Q6_K's low-bit word w of half h (ql bytes 64h + 8w..) holds
    /// values 128h + 8w + i (low nibbles) and 128h + 64 + 8w + i (high), its high-bit word u of half h (qh bytes
    /// 32h + 8u..) values 128h + 32g + 8u + i at bits 2g. Value 128h + 32g + 8v + i is lane 8g + i of vector k = 2v + h,
    /// so this layout's low-bit word (v, g) takes the nibbles g / 2 of Q6_K words 4(g mod 2) + v of both halves, and its
    /// high-bit word (m, g) field f (k = 4m + f) the bits 2g of Q6_K word 2m + f / 2 of half f mod 2.
    /// </remarks>
    public static void FromQ6_K(byte* p, long blocks)
    {
        ulong* q = stackalloc ulong[24];
        for (long b = 0; b < blocks; b++, p += Bytes)
        {
            ulong* w = (ulong*)p;
            for (int i = 0; i < 24; i++) q[i] = w[i];
            ulong* ql = q, qh = q + 16, nh = w + 16;
            for (int v = 0; v < 4; v++)
                for (int g = 0; g < 4; g++)
                {
                    ulong a = ql[4 * (g & 1) + v], c = ql[8 + 4 * (g & 1) + v];
                    w[4 * v + g] = g < 2 ? (a & Low) | (c & Low) << 4 : (a >> 4 & Low) | (c & ~Low);
                }
            for (int m = 0; m < 2; m++)
                for (int g = 0; g < 4; g++)
                {
                    ulong word = 0;
                    for (int f = 0; f < 4; f++) word |= (qh[4 * (f & 1) + 2 * m + (f >> 1)] >> (2 * g) & Two) << (2 * f);
                    nh[4 * m + g] = word;
                }
        }
    }

    /// <summary>One block of this layout back to Q6_K, into <paramref name="dst"/> (210 bytes, not overlapping): the inverse word operations of <see cref="FromQ6_K"/>.</summary>
    public static void ToQ6_K(byte* src, byte* dst)
    {
        ulong* n = (ulong*)src, nh = n + 16, ql = (ulong*)dst, qh = ql + 16;
        for (int c = 0; c < 2; c++)
            for (int v = 0; v < 4; v++)
            {
                ulong a = n[4 * v + c], e = n[4 * v + c + 2];
                ql[4 * c + v] = (a & Low) | (e & Low) << 4;
                ql[8 + 4 * c + v] = (a >> 4 & Low) | (e & ~Low);
            }
        for (int h = 0; h < 2; h++)
            for (int v = 0; v < 4; v++)
            {
                int f = 2 * (v & 1) + h;
                ulong word = 0;
                for (int g = 0; g < 4; g++) word |= (nh[4 * (v >> 1) + g] >> (2 * f) & Two) << (2 * g);
                qh[4 * h + v] = word;
            }
        new ReadOnlySpan<byte>(src + 192, 18).CopyTo(new Span<byte>(dst + 192, 18));
    }

    private const ulong Low = 0x0F0F0F0F0F0F0F0FUL, Two = 0x0303030303030303UL;

    /// <summary>Values exactly as <see cref="Q6_KBlock.Dequantize"/> gives them for the Q6_K block this was made from.</summary>
    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        byte* q6k = stackalloc byte[Bytes];
        fixed (byte* p = block) ToQ6_K(p, q6k);
        Q6_KBlock.Dequantize(new ReadOnlySpan<byte>(q6k, Bytes), y);
    }
}
