namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q3_K: 256 values, 110 bytes (spec gguf-format.md §3.2).
/// Layout: 0 hmask[32]; 32 qs[64] (low 2 bits); 96 scales[12] (sixteen 6-bit signed scales); 108 d fp16.
/// q = ((qs[32h+l] >> 2g) &amp; 3) - 4 + 4*hb with hb = (hmask[i%32] >> (i/32)) &amp; 1 (range -4..3);
/// value i = (d*sc[i/16])*q.
/// </summary>
internal static class Q3_KBlock
{
    public const int Values = 256;
    public const int Bytes = 110;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        ReadOnlySpan<byte> hmask = block[..32];
        ReadOnlySpan<byte> qs = block.Slice(32, 64);
        ReadOnlySpan<byte> scales = block.Slice(96, 12);
        float d = Fp16.Read(block, 108);
        for (int i = 0; i < Values; i++)
        {
            int h = i / 128, g = i % 128 / 32, l = i % 32;
            int q2 = (qs[32 * h + l] >> (2 * g)) & 3;
            int hb = (hmask[i % 32] >> (i / 32)) & 1;
            int q = q2 - 4 + 4 * hb;
            float dl = d * Scale(scales, i / 16);
            y[i] = dl * q;
        }
    }

    /// <summary>Scale k: 4 low bits from bytes 0-7 (low nibbles for k &lt; 8, high for k ≥ 8), 2 high bits from bytes 8-11, minus 32.</summary>
    private static int Scale(ReadOnlySpan<byte> scales, int k)
    {
        int low4 = k < 8 ? scales[k] & 15 : scales[k - 8] >> 4;
        int high2 = (scales[8 + k % 4] >> (2 * (k / 4))) & 3;
        return (low4 | high2 << 4) - 32;
    }
}
