using System.Buffers.Binary;

namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q5_0: 32 values, 22 bytes (spec gguf-format.md §3.1).
/// Layout: 0 d fp16; 2 qh u32 (bit i = 5th bit of value i); 6 qs[16] (low nibbles as Q4_0).
/// Value i = (n5(i) - 16)*d.
/// </summary>
internal static class Q5_0Block
{
    public const int Values = 32;
    public const int Bytes = 22;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = Fp16.Read(block, 0);
        uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[2..]);
        ReadOnlySpan<byte> qs = block.Slice(6, 16);
        for (int k = 0; k < 16; k++)
        {
            int lo = (qs[k] & 15) | (int)((qh >> k) & 1) << 4;
            int hi = (qs[k] >> 4) | (int)((qh >> (k + 16)) & 1) << 4;
            y[k] = (lo - 16) * d;
            y[k + 16] = (hi - 16) * d;
        }
    }

    /// <summary>quantize_row_q5_0_ref (spec §5): d = max/-16, q = min(31, trunc(x/d + 16.5)).</summary>
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> block)
    {
        float max = Q4_0Block.SignedMaxMagnitude(x);
        float d = max / -16f;
        float id = d != 0 ? 1f / d : 0f;
        Fp16.Write(block, 0, d);
        uint qh = 0;
        for (int k = 0; k < 16; k++)
        {
            int lo = Math.Min(31, (int)(x[k] * id + 16.5f));
            int hi = Math.Min(31, (int)(x[k + 16] * id + 16.5f));
            block[6 + k] = (byte)((lo & 15) | (hi & 15) << 4);
            qh |= (uint)(lo >> 4) << k;
            qh |= (uint)(hi >> 4) << (k + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(block[2..], qh);
    }
}
