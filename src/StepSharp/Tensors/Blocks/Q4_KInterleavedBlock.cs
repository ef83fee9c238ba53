namespace StepSharp.Tensors.Blocks;

/// <summary>
/// <see cref="GgmlType.Q4_KInterleaved"/>: Q4_K with its 128 quant bytes rearranged for the integer decode kernel
/// (<c>Kernels/Dot/Q4_KInterleavedQ8Dot</c>); made at load from Q4_K, the same 144 bytes, never written to a file.
/// Bytes 0–15 (d, dmin, 6-bit scales) are Q4_K's. Quant byte 16 + 32v + 8g + i (v, g &lt; 4, i &lt; 8) holds value
/// 8v + i of sub-block g in its low nibble and of sub-block 4 + g in its high nibble, so every 32-byte vector spans
/// sub-blocks 0–3 (low nibbles) and 4–7 (high) in the same lanes, and the kernel can add four vectors' products
/// before it applies the scales. In Q4_K, 32-byte group c holds sub-block 2c in its low and 2c + 1 in its high
/// nibbles: each 8-byte word of one layout is made of two 8-byte words of the other, nibble halves moved.
/// </summary>
internal static unsafe class Q4_KInterleavedBlock
{
    public const int Values = 256;
    public const int Bytes = 144;
    private const ulong Low = 0x0F0F0F0F0F0F0F0FUL;

    /// <summary>Rewrites <paramref name="blocks"/> consecutive Q4_K blocks at <paramref name="p"/> into this layout, in place.</summary>
    public static void FromQ4_K(byte* p, long blocks)
    {
        ulong* q = stackalloc ulong[16];
        for (long b = 0; b < blocks; b++, p += Bytes)
        {
            ulong* w = (ulong*)(p + 16);
            for (int i = 0; i < 16; i++) q[i] = w[i];
            // Q4_K word (c, v) = q[4c + v]: bytes 8v..8v+8 of group c. New word (v, g) = w[4v + g].
            for (int v = 0; v < 4; v++)
                for (int g = 0; g < 4; g++)
                {
                    ulong a = q[4 * (g / 2) + v], h = q[4 * (2 + g / 2) + v];   // sub-blocks g and 4 + g, in nibble g & 1
                    w[4 * v + g] = (g & 1) == 0 ? (a & Low) | (h & Low) << 4 : (a >> 4 & Low) | (h & ~Low);
                }
        }
    }

    /// <summary>One block of this layout back to Q4_K, into <paramref name="dst"/> (144 bytes, not overlapping).</summary>
    public static void ToQ4_K(byte* src, byte* dst)
    {
        ((ulong*)dst)[0] = ((ulong*)src)[0];
        ((ulong*)dst)[1] = ((ulong*)src)[1];
        ulong* w = (ulong*)(src + 16), q = (ulong*)(dst + 16);
        for (int c = 0; c < 4; c++)
            for (int v = 0; v < 4; v++)
            {
                // Group c holds sub-blocks 2c (low) and 2c + 1 (high): for c < 2 low nibbles of words g = 2c, 2c + 1,
                // for c ≥ 2 the high nibbles of g = 2c − 4, 2c − 3.
                q[4 * c + v] = c < 2
                    ? (w[4 * v + 2 * c] & Low) | (w[4 * v + 2 * c + 1] & Low) << 4
                    : (w[4 * v + 2 * c - 4] >> 4 & Low) | (w[4 * v + 2 * c - 3] & ~Low);
            }
    }

    /// <summary>Values exactly as <see cref="Q4_KBlock.Dequantize"/> gives them for the Q4_K block this was made from.</summary>
    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        byte* q4k = stackalloc byte[Bytes];
        fixed (byte* p = block) ToQ4_K(p, q4k);
        Q4_KBlock.Dequantize(new ReadOnlySpan<byte>(q4k, Bytes), y);
    }
}
