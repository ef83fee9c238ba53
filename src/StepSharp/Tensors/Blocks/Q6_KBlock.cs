namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q6_K: 256 values, 210 bytes (spec gguf-format.md §3.2, worked example §3.4).
/// Layout: 0 ql[128] (low 4 bits); 128 qh[64] (high 2 bits); 192 scales int8[16]; 208 d fp16.
/// With h = i/128, g = (i%128)/32, l = i%32: low4 = g &lt; 2 ? lo(ql[64h+32(g&amp;1)+l]) : hi(same byte),
/// high2 = (qh[32h+l] >> 2g) &amp; 3, q = (low4 | high2&lt;&lt;4) - 32; value i = (d*scales[i/16])*q.
/// </summary>
internal static partial class Q6_KBlock
{
    public const int Values = 256;
    public const int Bytes = 210;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        ReadOnlySpan<byte> ql = block[..128];
        ReadOnlySpan<byte> qh = block.Slice(128, 64);
        ReadOnlySpan<byte> scales = block.Slice(192, 16);
        float d = Fp16.Read(block, 208);
        for (int i = 0; i < Values; i++)
        {
            int h = i / 128, g = i % 128 / 32, l = i % 32;
            int lb = ql[64 * h + 32 * (g & 1) + l];
            int low4 = g < 2 ? lb & 15 : lb >> 4;
            int high2 = (qh[32 * h + l] >> (2 * g)) & 3;
            int q = (low4 | high2 << 4) - 32;
            float ds = d * (sbyte)scales[i / 16];
            y[i] = ds * q;
        }
    }
}
