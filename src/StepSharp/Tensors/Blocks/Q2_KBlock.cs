namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q2_K: 256 values, 84 bytes (spec gguf-format.md §3.2).
/// Layout: 0 scales[16] (low nibble = 4-bit scale, high nibble = 4-bit min, one per 16 values);
/// 16 qs[64] (2-bit values); 80 d fp16; 82 dmin fp16.
/// With h = i/128, g = (i%128)/32, l = i%32: q = (qs[32h+l] >> 2g) &amp; 3, s = scales[i/16],
/// value i = (d*lo(s))*q - dmin*hi(s).
/// </summary>
internal static class Q2_KBlock
{
    public const int Values = 256;
    public const int Bytes = 84;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        ReadOnlySpan<byte> scales = block[..16];
        ReadOnlySpan<byte> qs = block.Slice(16, 64);
        float d = Fp16.Read(block, 80);
        float dmin = Fp16.Read(block, 82);
        for (int i = 0; i < Values; i++)
        {
            int h = i / 128, g = i % 128 / 32, l = i % 32;
            int q = (qs[32 * h + l] >> (2 * g)) & 3;
            int s = scales[i / 16];
            float dl = d * (s & 15);
            float ml = dmin * (s >> 4);
            y[i] = dl * q - ml;
        }
    }
}
