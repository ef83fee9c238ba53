using System.Buffers.Binary;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Tensors;

/// <summary>
/// Reference quantizers (spec gguf-format.md §5), used to build models (`stepsharp make-model`, the demo
/// model) and in tests. Q8_0 and the legacy 32-value types follow ggml's quantize_row_*_ref exactly, so
/// their bytes equal llama-quantize's (without an importance matrix). The K-quants follow the reference
/// algorithms (make_qkx2_quants / make_qx_quants) but are not promised to be byte-identical.
/// </summary>
public static class Quantize
{
    /// <summary>True when <see cref="Row"/> supports the type.</summary>
    public static bool Supports(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => true,
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 => true,
        GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => true,
        _ => false,
    };

    /// <summary>Encodes <paramref name="src"/> into <paramref name="dst"/> (exactly RowBytes(type, src.Length) bytes).</summary>
    /// <exception cref="ArgumentException">Unsupported type, or sizes that do not match.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (!Supports(type))
            throw new ArgumentException($"quantization to {type} is not supported", nameof(type));
        long expected = GgmlTypeInfo.RowBytes(type, src.Length);
        if (dst.Length != expected)
            throw new ArgumentException($"a {type} row of {src.Length} values takes {expected} bytes, got {dst.Length}", nameof(dst));

        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < src.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(dst[(4 * i)..], src[i]);
                return;
            case GgmlType.F16:
                for (int i = 0; i < src.Length; i++)
                    Fp16.Write(dst, 2 * i, src[i]);
                return;
            case GgmlType.BF16:
                for (int i = 0; i < src.Length; i++)
                    BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], Fp16.ToBf16Bits(src[i]));
                return;
            case GgmlType.Q4_0: Blocks(src, dst, Q4_0Block.Bytes, Q4_0Block.Values, Q4_0Block.Quantize); return;
            case GgmlType.Q4_1: Blocks(src, dst, Q4_1Block.Bytes, Q4_1Block.Values, Q4_1Block.Quantize); return;
            case GgmlType.Q5_0: Blocks(src, dst, Q5_0Block.Bytes, Q5_0Block.Values, Q5_0Block.Quantize); return;
            case GgmlType.Q5_1: Blocks(src, dst, Q5_1Block.Bytes, Q5_1Block.Values, Q5_1Block.Quantize); return;
            case GgmlType.Q8_0: Blocks(src, dst, Q8_0Block.Bytes, Q8_0Block.Values, Q8_0Block.Quantize); return;
            case GgmlType.Q4_K: Blocks(src, dst, Q4_KBlock.Bytes, Q4_KBlock.Values, Q4_KBlock.Quantize); return;
            case GgmlType.Q5_K: Blocks(src, dst, Q5_KBlock.Bytes, Q5_KBlock.Values, Q5_KBlock.Quantize); return;
            case GgmlType.Q6_K: Blocks(src, dst, Q6_KBlock.Bytes, Q6_KBlock.Values, Q6_KBlock.Quantize); return;
            default:
                throw new ArgumentException($"quantization to {type} is not supported", nameof(type));
        }
    }

    private delegate void BlockEncoder(ReadOnlySpan<float> x, Span<byte> block);

    private static void Blocks(ReadOnlySpan<float> src, Span<byte> dst, int blockBytes, int blockValues, BlockEncoder encode)
    {
        int blocks = src.Length / blockValues;
        for (int b = 0; b < blocks; b++)
            encode(src.Slice(b * blockValues, blockValues), dst.Slice(b * blockBytes, blockBytes));
    }
}
