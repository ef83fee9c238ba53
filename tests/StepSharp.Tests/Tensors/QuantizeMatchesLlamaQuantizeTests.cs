using StepSharp.Formats;
using StepSharp.Tensors;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Tensors;

/// <summary>
/// Our reference quantizers against llama-quantize's output for the same F32 weights (step35-tiny,
/// no importance matrix, so llama.cpp used its quantize_row_*_ref paths, spec gguf-format.md §5).
/// Every quantized tensor must come out byte for byte identical: Q8_0 and Q5_0 (legacy round-to-nearest),
/// Q4_K (make_qkx2_quants) and Q6_K (make_qx_quants) alike.
/// </summary>
public class QuantizeMatchesLlamaQuantizeTests
{
    [Theory]
    [InlineData("step35-tiny-a-q8_0.gguf", new[] { GgmlType.Q8_0 })]
    [InlineData("step35-tiny-a-q4_k_m.gguf", new[] { GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K })]
    public void QuantizersReproduceLlamaQuantizeBytes(string quantizedFile, GgmlType[] expectedTypes)
    {
        using var f32 = GgufFile.Open(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));
        using var q = GgufFile.Open(TestData.Path("step35-tiny", quantizedFile));
        var compared = new HashSet<GgmlType>();
        foreach (GgufTensorInfo info in q.Tensors)
        {
            if (info.Type == GgmlType.F32)
                continue;
            TensorView source = f32.GetTensor(info.Name);
            TensorView expected = q.GetTensor(info.Name);
            var row = new float[source.Ne0];
            var bytes = new byte[expected.RowByteLength];
            for (long r = 0; r < source.RowCount; r++)
            {
                source.DequantizeRow(r, row);
                Quantize.Row(info.Type, row, bytes);
                ReadOnlySpan<byte> reference = expected.Row(r);
                if (!reference.SequenceEqual(bytes))
                {
                    int at = reference.CommonPrefixLength(bytes);
                    int blockBytes = GgmlTypeInfo.BlockBytes(info.Type), block = at / blockBytes;
                    var x = row.AsSpan(block * GgmlTypeInfo.BlockSize(info.Type), GgmlTypeInfo.BlockSize(info.Type)).ToArray();
                    Assert.Fail($"{info.Name} ({info.Type}) row {r}: first differing byte {at} (block {block}, byte {at % blockBytes}): " +
                        $"llama-quantize {Convert.ToHexString(reference.Slice(block * blockBytes, blockBytes))}, ours {Convert.ToHexString(bytes.AsSpan(block * blockBytes, blockBytes))}; x = [{string.Join(", ", x.Select(v => v.ToString("R")))}]");
                }
            }
            compared.Add(info.Type);
        }
        Assert.Equal(expectedTypes.ToHashSet(), compared);
    }
}
