using System.Buffers.Binary;

namespace StepSharp.Tensors;

/// <summary>Half and bfloat16 scalar conversions used by the block codecs (spec gguf-format.md §3).</summary>
internal static class Fp16
{
    /// <summary>Reads a little-endian IEEE binary16 and widens it; the widening is exact.</summary>
    public static float Read(ReadOnlySpan<byte> bytes, int offset) =>
        (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes[offset..]));

    /// <summary>Rounds to binary16 (IEEE round-to-nearest-even, as ggml's GGML_FP32_TO_FP16) and stores it.</summary>
    public static void Write(Span<byte> bytes, int offset, float value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[offset..], ToBits(value));

    /// <summary>binary16 bits of the nearest half; every NaN becomes 0x7E00 as in ggml.</summary>
    public static ushort ToBits(float value) =>
        float.IsNaN(value) ? (ushort)0x7E00 : BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>The value a float becomes after a round trip through binary16.</summary>
    public static float Round(float value) => (float)BitConverter.UInt16BitsToHalf(ToBits(value));

    /// <summary>bfloat16 is the top half of an IEEE f32, so widening is a shift.</summary>
    public static float ReadBf16(ReadOnlySpan<byte> bytes, int offset) =>
        BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[offset..]) << 16);

    /// <summary>
    /// bfloat16 bits of a float with round-to-nearest-even, as ggml's GGML_FP32_TO_BF16; NaN stays a quiet NaN.
    /// </summary>
    public static ushort ToBf16Bits(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffff) > 0x7f800000)
            return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }
}
