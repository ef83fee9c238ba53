namespace StepSharp.Tensors.Blocks;

/// <summary>
/// The 12-byte packing of eight 6-bit scales and eight 6-bit mins shared by Q4_K and Q5_K
/// (spec gguf-format.md §3.2 "Q4_K"): bytes 0-3 hold sc0-3 plus the top 2 bits of sc4-7, bytes 4-7
/// hold m0-3 plus the top 2 bits of m4-7, bytes 8-11 hold the low nibbles of sc4-7 (low) and m4-7 (high).
/// </summary>
internal static class KScales6
{
    public const int Bytes = 12;

    public static (int Scale, int Min) Unpack(ReadOnlySpan<byte> s, int j)
    {
        if (j < 4)
            return (s[j] & 63, s[j + 4] & 63);
        int scale = (s[j + 4] & 15) | (s[j - 4] >> 6) << 4;
        int min = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
        return (scale, min);
    }

    /// <summary>Inverse of <see cref="Unpack"/>; every input must be in 0..63.</summary>
    public static void Pack(ReadOnlySpan<byte> scales, ReadOnlySpan<byte> mins, Span<byte> s)
    {
        for (int j = 0; j < 4; j++)
        {
            s[j] = (byte)(scales[j] | (scales[j + 4] >> 4) << 6);
            s[j + 4] = (byte)(mins[j] | (mins[j + 4] >> 4) << 6);
            s[j + 8] = (byte)((scales[j + 4] & 15) | (mins[j + 4] & 15) << 4);
        }
    }
}
