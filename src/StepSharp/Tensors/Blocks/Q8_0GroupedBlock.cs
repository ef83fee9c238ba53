namespace StepSharp.Tensors.Blocks;

/// <summary>
/// <see cref="GgmlType.Q8_0Grouped"/>: eight Q8_0 blocks (256 values, 272 bytes) with their fp16 scales gathered in
/// front — bytes 0–15 the eight scales, then block j's 32 int8 quants at 16 + 32j — so the integer decode kernel
/// (<c>Kernels/Dot/Q8_0GroupedQ8Dot</c>) loads the eight scales with one vector load instead of packing eight
/// 2-byte loads 34 bytes apart. Made at load from Q8_0 rows of a multiple of 256 values; never written to a file.
/// </summary>
internal static unsafe class Q8_0GroupedBlock
{
    public const int Values = 256;
    public const int Bytes = 272;
    private const int Blocks = 8, BlockBytes = 34;

    /// <summary>Rewrites <paramref name="groups"/> runs of eight Q8_0 blocks at <paramref name="p"/> into this layout, in place.</summary>
    public static void FromQ8_0(byte* p, long groups)
    {
        byte* copy = stackalloc byte[Bytes];
        for (long g = 0; g < groups; g++, p += Bytes)
        {
            Buffer.MemoryCopy(p, copy, Bytes, Bytes);
            for (int j = 0; j < Blocks; j++)
            {
                ((ushort*)p)[j] = *(ushort*)(copy + BlockBytes * j);
                Buffer.MemoryCopy(copy + BlockBytes * j + 2, p + 16 + 32 * j, 32, 32);
            }
        }
    }

    /// <summary>One group back to eight Q8_0 blocks, into <paramref name="dst"/> (272 bytes, not overlapping).</summary>
    public static void ToQ8_0(byte* src, byte* dst)
    {
        for (int j = 0; j < Blocks; j++)
        {
            *(ushort*)(dst + BlockBytes * j) = ((ushort*)src)[j];
            Buffer.MemoryCopy(src + 16 + 32 * j, dst + BlockBytes * j + 2, 32, 32);
        }
    }

    /// <summary>Values exactly as <see cref="Q8_0Block.Dequantize"/> gives them for the blocks this was made from.</summary>
    public static void Dequantize(ReadOnlySpan<byte> group, Span<float> y)
    {
        byte* q8 = stackalloc byte[Bytes];
        fixed (byte* p = group) ToQ8_0(p, q8);
        for (int j = 0; j < Blocks; j++)
            Q8_0Block.Dequantize(new ReadOnlySpan<byte>(q8 + BlockBytes * j, BlockBytes), y.Slice(32 * j, 32));
    }
}
