using System.Buffers.Binary;

namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q5_1: 32 values, 24 bytes (spec gguf-format.md §3.1).
/// Layout: 0 d fp16; 2 m fp16; 4 qh u32; 8 qs[16]. Value i = n5(i)*d + m.
/// </summary>
internal static class Q5_1Block
{
    public const int Values = 32;
    public const int Bytes = 24;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Fp16.Read(block, 0);
        float m = Fp16.Read(block, 2);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[4..]);
        ReadOnlySpan<byte> qs = block.Slice(8, 16);
        for (int k = 0; k < 16; k++)
        {
            int lo = (qs[k] & 15) | (int)((qh >> k) & 1) << 4;
            int hi = (qs[k] >> 4) | (int)((qh >> (k + 16)) & 1) << 4;
            y[k] = lo * d + m;
            y[k + 16] = hi * d + m;
        }
    }

    /// <summary>quantize_row_q5_1_ref (spec §5): d = (max-min)/31, q = trunc((x-min)/d + 0.5).</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        var (min, max) = Q4_1Block.MinMax(x);
        float d = (max - min) / 31f;
        float id = d != 0 ? 1f / d : 0f;
        Fp16.Write(block, 0, d);
        Fp16.Write(block, 2, min);
        uint qh = 0;
        for (int k = 0; k < 16; k++)
        {
            // ggml does not clamp here; (x-min)/d + 0.5 ≤ 31.5 in exact arithmetic, but guard anyway.
            int lo = Math.Min(31, (int)((x[k] - min) * id + 0.5f));
            int hi = Math.Min(31, (int)((x[k + 16] - min) * id + 0.5f));
            block[8 + k] = (byte)((lo & 15) | (hi & 15) << 4);
            qh |= (uint)(lo >> 4) << k;
            qh |= (uint)(hi >> 4) << (k + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(block[4..], qh);
    }
}
