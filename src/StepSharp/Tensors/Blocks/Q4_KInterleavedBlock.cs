namespace StepSharp.Tensors.Blocks;

/// <summary>
/// <see cref="GgmlType.Q4_KInterleaved"/>: Q4_K with its 128 quant bytes rearranged for the integer decode kernel
/// (<c>Kernels/Dot/Q4_KInterleavedQ8Dot</c>); made at load from Q4_K, the same 144 bytes, never written to a file.
/// Bytes 0–15 hold Q4_K's header words (d|dmin, then three words of 6-bit scales and mins), transposed across the
/// four rows of a group (<see cref="InMemoryLayouts"/>): word k of row j's header sits in word j of the header of the
/// group's block k, so the kernel's four header loads already hold one word of every row each (no 4×4 shuffle a
/// super-block; in cache that shuffle was ~15–20 % of the kernel's time, bench/native/q4k_kernel_ablation.c). A block
/// alone therefore no longer holds its header: readers take the row's place in its group (<see cref="ToQ4_K"/>).
/// Quant byte 16 + 32v + 8g + i (v, g &lt; 4, i &lt; 8) holds value
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

    /// <summary>
    /// Rearranges n values (a multiple of 256; int8 activations or 6-bit weights) into this layout's lane order: per
    /// super-block, 32-byte vector 2v + h holds values 8v..8v+8 of sub-blocks 4h, 4h+1, 4h+2, 4h+3.
    /// </summary>
    public static void PermuteValues(byte* natural, byte* permuted, long n)
    {
        for (long b = 0; b < n; b += 256)
        {
            ulong* s = (ulong*)(natural + b), t = (ulong*)(permuted + b);
            for (int v = 0; v < 4; v++)
                for (int h = 0; h < 2; h++)
                    for (int g = 0; g < 4; g++)
                        t[(2 * v + h) * 4 + g] = s[4 * (4 * h + g) + v];
        }
    }

    /// <summary>The inverse of <see cref="PermuteValues"/> for one super-block (256 values).</summary>
    public static void UnpermuteValues(byte* permuted, byte* natural)
    {
        ulong* s = (ulong*)permuted, t = (ulong*)natural;
        for (int v = 0; v < 4; v++)
            for (int h = 0; h < 2; h++)
                for (int g = 0; g < 4; g++)
                    t[4 * (4 * h + g) + v] = s[(2 * v + h) * 4 + g];
    }

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

    /// <summary>
    /// Transposes the 4×4 matrix of 4-byte header words of the group's four blocks at <paramref name="step"/> (block r
    /// at step + 144r): word k of block j and word j of block k trade places. Its own inverse.
    /// </summary>
    public static void TransposeGroupHeaders(byte* step)
    {
        for (int j = 0; j < InMemoryLayouts.GroupRows; j++)
            for (int k = j + 1; k < InMemoryLayouts.GroupRows; k++)
            {
                uint* a = (uint*)(step + j * Bytes) + k, b = (uint*)(step + k * Bytes) + j;
                (*a, *b) = (*b, *a);
            }
    }

    /// <summary>
    /// The block at <paramref name="src"/>, row <paramref name="rowInGroup"/> of its group (its header words are in the
    /// group's four blocks, see the class summary), back to Q4_K into <paramref name="dst"/> (144 bytes, not overlapping).
    /// </summary>
    public static void ToQ4_K(byte* src, int rowInGroup, byte* dst)
    {
        byte* step = src - rowInGroup * Bytes;
        for (int k = 0; k < InMemoryLayouts.GroupRows; k++) ((uint*)dst)[k] = ((uint*)(step + k * Bytes))[rowInGroup];
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
}
