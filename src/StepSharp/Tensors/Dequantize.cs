using System.Runtime.InteropServices;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Tensors;

/// <summary>
/// Scalar reference dequantization, bit-exact with ggml's dequantize_row_* (spec gguf-format.md §3):
/// every formula is evaluated in f32 in ggml's order, and .NET does not contract a*b+c into FMA,
/// so results match the C reference including the sign of zeros. Not a hot path: the kernels do
/// quantized dot products; this is for small tensors, tests and conversions.
/// </summary>
public static class Dequantize
{
    /// <summary>
    /// Decodes <paramref name="src"/> (exactly RowBytes(type, dst.Length) bytes) into <paramref name="dst"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Unsupported type, or sizes that do not match.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!GgmlTypeInfo.CanDequantize(type))
            throw new ArgumentException($"dequantization of {type} is not supported", nameof(type));
        long expected = GgmlTypeInfo.RowBytes(type, dst.Length);
        if (src.Length != expected)
            throw new ArgumentException($"a {type} row of {dst.Length} values takes {expected} bytes, got {src.Length}", nameof(src));

        switch (type)
        {
            case GgmlType.F32:
                // Little-endian hosts only (the parser refuses big-endian files): a plain copy.
                MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                return;
            case GgmlType.F16:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = Fp16.Read(src, 2 * i);
                return;
            case GgmlType.BF16:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = Fp16.ReadBf16(src, 2 * i);
                return;
            case GgmlType.Q4_0: Blocks(src, dst, Q4_0Block.Bytes, Q4_0Block.Values, Q4_0Block.Dequantize); return;
            case GgmlType.Q4_1: Blocks(src, dst, Q4_1Block.Bytes, Q4_1Block.Values, Q4_1Block.Dequantize); return;
            case GgmlType.Q5_0: Blocks(src, dst, Q5_0Block.Bytes, Q5_0Block.Values, Q5_0Block.Dequantize); return;
            case GgmlType.Q5_1: Blocks(src, dst, Q5_1Block.Bytes, Q5_1Block.Values, Q5_1Block.Dequantize); return;
            case GgmlType.Q8_0: Blocks(src, dst, Q8_0Block.Bytes, Q8_0Block.Values, Q8_0Block.Dequantize); return;
            case GgmlType.Q2_K: Blocks(src, dst, Q2_KBlock.Bytes, Q2_KBlock.Values, Q2_KBlock.Dequantize); return;
            case GgmlType.Q3_K: Blocks(src, dst, Q3_KBlock.Bytes, Q3_KBlock.Values, Q3_KBlock.Dequantize); return;
            case GgmlType.Q4_K: Blocks(src, dst, Q4_KBlock.Bytes, Q4_KBlock.Values, Q4_KBlock.Dequantize); return;
            case GgmlType.Q4_KInterleaved:
                throw new ArgumentException("Q4_KInterleaved blocks do not hold their own headers (they are transposed across a group of four rows); use TensorView.DequantizeRow", nameof(type));
            case GgmlType.Q6_KInterleaved: Blocks(src, dst, Q6_KInterleavedBlock.Bytes, Q6_KInterleavedBlock.Values, Q6_KInterleavedBlock.Dequantize); return;
            case GgmlType.Q8_0Grouped: Blocks(src, dst, Q8_0GroupedBlock.Bytes, Q8_0GroupedBlock.Values, Q8_0GroupedBlock.Dequantize); return;
            case GgmlType.Q5_K: Blocks(src, dst, Q5_KBlock.Bytes, Q5_KBlock.Values, Q5_KBlock.Dequantize); return;
            case GgmlType.Q6_K: Blocks(src, dst, Q6_KBlock.Bytes, Q6_KBlock.Values, Q6_KBlock.Dequantize); return;
            case GgmlType.Q8_K: Blocks(src, dst, Q8_KBlock.Bytes, Q8_KBlock.Values, Q8_KBlock.Dequantize); return;
            case GgmlType.IQ4_NL: Blocks(src, dst, IQ4_NLBlock.Bytes, IQ4_NLBlock.Values, IQ4_NLBlock.Dequantize); return;
            case GgmlType.IQ4_XS: Blocks(src, dst, IQ4_XSBlock.Bytes, IQ4_XSBlock.Values, IQ4_XSBlock.Dequantize); return;
            case GgmlType.MXFP4: Blocks(src, dst, MXFP4Block.Bytes, MXFP4Block.Values, MXFP4Block.Dequantize); return;
            default:
                throw new ArgumentException($"dequantization of {type} is not supported", nameof(type));
        }
    }

    private delegate void BlockDecoder(ReadOnlySpan<byte> block, Span<float> y);

    private static void Blocks(ReadOnlySpan<byte> src, Span<float> dst, int blockBytes, int blockValues, BlockDecoder decode)
    {
        int blocks = dst.Length / blockValues;
        for (int b = 0; b < blocks; b++)
            decode(src.Slice(b * blockBytes, blockBytes), dst.Slice(b * blockValues, blockValues));
    }
}
