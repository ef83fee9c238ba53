using System.Buffers.Binary;

namespace StepSharp.Tensors.Blocks;

/// <summary>
/// IQ4_NL: 32 values, 18 bytes (spec gguf-format.md §3.1). Layout as Q4_0 (0 d fp16; 2 qs[16], byte k =
/// values k and k+16), but each nibble indexes a non-uniform codebook: value i = d*T[n(i)].
/// </summary>
internal static class IQ4_NLBlock
{
    public const int Values = 32;
    public const int Bytes = 18;

    /// <summary>The IQ4 codebook shared with IQ4_XS (spec §3.1).</summary>
    public static ReadOnlySpan<sbyte> Codebook => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Fp16.Read(block, 0);
        ReadOnlySpan<byte> qs = block.Slice(2, 16);
        for (int k = 0; k < 16; k++)
        {
            y[k] = d * Codebook[qs[k] & 15];
            y[k + 16] = d * Codebook[qs[k] >> 4];
        }
    }
}

/// <summary>
/// IQ4_XS: 256 values, 136 bytes (spec gguf-format.md §3.2). Layout: 0 d fp16; 2 scales_h u16;
/// 4 scales_l[4]; 8 qs[128]. Sub-block b = i/32 has the 6-bit scale
/// ls = ((scales_l[b/2] >> 4(b%2)) &amp; 15) | ((scales_h >> 2b) &amp; 3)&lt;&lt;4; within it, r = i%32 picks
/// n = r &lt; 16 ? lo(qs[16b+r]) : hi(qs[16b+r-16]); value i = (d*(ls-32))*T[n].
/// </summary>
internal static class IQ4_XSBlock
{
    public const int Values = 256;
    public const int Bytes = 136;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Fp16.Read(block, 0);
        int scalesHigh = BinaryPrimitives.ReadUInt16LittleEndian(block[2..]);
        ReadOnlySpan<byte> scalesLow = block.Slice(4, 4);
        ReadOnlySpan<byte> qs = block.Slice(8, 128);
        for (int b = 0; b < 8; b++)
        {
            int ls = ((scalesLow[b / 2] >> (4 * (b % 2))) & 15) | ((scalesHigh >> (2 * b)) & 3) << 4;
            float dl = d * (ls - 32);
            for (int k = 0; k < 16; k++)
            {
                byte q = qs[16 * b + k];
                y[32 * b + k] = dl * IQ4_NLBlock.Codebook[q & 15];
                y[32 * b + k + 16] = dl * IQ4_NLBlock.Codebook[q >> 4];
            }
        }
    }
}

/// <summary>
/// MXFP4: 32 values, 17 bytes (spec gguf-format.md §3.1). Layout: 0 e (E8M0 exponent byte); 1 qs[16]
/// (nibbles as Q4_0). Each nibble is an E2M1 value; the table holds them doubled, hence the scale
/// 2^(e-128) instead of 2^(e-127). Value i = K[n(i)]*2^(e-128), exact for every e in 0..255.
/// </summary>
internal static class MXFP4Block
{
    public const int Values = 32;
    public const int Bytes = 17;

    private static ReadOnlySpan<sbyte> DoubledE2M1 => [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        // 2^(e-128) is a power of two, subnormal for e = 0 and 1, so ScaleB is exact (as ggml's bit trick).
        float d = MathF.ScaleB(1f, block[0] - 128);
        ReadOnlySpan<byte> qs = block.Slice(1, 16);
        for (int k = 0; k < 16; k++)
        {
            y[k] = DoubledE2M1[qs[k] & 15] * d;
            y[k + 16] = DoubledE2M1[qs[k] >> 4] * d;
        }
    }
}
