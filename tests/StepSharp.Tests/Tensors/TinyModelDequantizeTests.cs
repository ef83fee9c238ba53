using StepSharp.Formats;
using StepSharp.Tensors;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Tensors;

/// <summary>
/// Dequantizes the llama-quantize outputs of step35-tiny and checks them against the F32 original with
/// error bounds derived from the quantizers of spec gguf-format.md §5, and against the independent
/// per-value decoder (<see cref="SpecBlockDecoder"/>) bit for bit.
/// </summary>
public class TinyModelDequantizeTests
{
    private static GgufFile OpenTiny(string name) => GgufFile.Open(TestData.Path("step35-tiny", name));

    [Fact]
    public void EveryQ8_0TensorIsWithinTheRoundingBoundOfTheF32Original()
    {
        using var f32 = OpenTiny("step35-tiny-a-f32.gguf");
        using var q8 = OpenTiny("step35-tiny-a-q8_0.gguf");
        int quantized = 0;
        foreach (GgufTensorInfo info in q8.Tensors)
        {
            float[] x = f32.GetTensor(info.Name).ToFloatArray();
            float[] y = q8.GetTensor(info.Name).ToFloatArray();
            Assert.Equal(x.Length, y.Length);
            if (info.Type == GgmlType.F32)
            {
                Assert.Equal(x, y); // kept as F32 by llama-quantize: must be untouched
                continue;
            }
            Assert.Equal(GgmlType.Q8_0, info.Type);
            quantized++;
            for (int b = 0; b < x.Length / 32; b++)
                QuantizationBounds.Q8_0($"{info.Name} block {b}", x.AsSpan(32 * b, 32), y.AsSpan(32 * b, 32));
        }
        Assert.True(quantized >= 90, $"expected most weights to be Q8_0, found {quantized}");
    }

    [Fact]
    public void EveryQ4_K_MTensorIsWithinItsTypeBoundOfTheF32Original()
    {
        using var f32 = OpenTiny("step35-tiny-a-f32.gguf");
        using var q = OpenTiny("step35-tiny-a-q4_k_m.gguf");
        var seen = new HashSet<GgmlType>();
        foreach (GgufTensorInfo info in q.Tensors)
        {
            float[] x = f32.GetTensor(info.Name).ToFloatArray();
            TensorView view = q.GetTensor(info.Name);
            float[] y = view.ToFloatArray();
            seen.Add(info.Type);
            if (info.Type == GgmlType.F32)
            {
                Assert.Equal(x, y); // left as F32 by llama-quantize: untouched
                continue;
            }
            int blockValues = GgmlTypeInfo.BlockSize(info.Type), blockBytes = GgmlTypeInfo.BlockBytes(info.Type);
            ReadOnlySpan<byte> bytes = view.Bytes;
            for (int b = 0; b < x.Length / blockValues; b++)
            {
                var xs = x.AsSpan(b * blockValues, blockValues);
                var ys = y.AsSpan(b * blockValues, blockValues);
                ReadOnlySpan<byte> block = bytes.Slice(b * blockBytes, blockBytes);
                QuantizationBounds.Block(info.Type, $"{info.Name} ({info.Type}) block {b}", block, xs, ys);
            }
            Assert.True(QuantizationBounds.RelativeRmsError(x, y) < QuantizationBounds.MaxRelativeRms(info.Type), $"{info.Name}: relative RMS error {QuantizationBounds.RelativeRmsError(x, y)}");
        }
        Assert.Equal(new HashSet<GgmlType> { GgmlType.F32, GgmlType.Q8_0, GgmlType.Q5_0, GgmlType.Q6_K, GgmlType.Q4_K }, seen);
    }

    [Fact]
    public void EveryBlockOfTheQ4_K_MFileMatchesTheSpecDecoderBitForBit()
    {
        using var q = OpenTiny("step35-tiny-a-q4_k_m.gguf");
        var blocksPerType = new Dictionary<GgmlType, int>();
        foreach (GgufTensorInfo info in q.Tensors)
        {
            if (info.Type == GgmlType.F32)
                continue;
            TensorView view = q.GetTensor(info.Name);
            float[] y = view.ToFloatArray();
            int blockValues = GgmlTypeInfo.BlockSize(info.Type), blockBytes = GgmlTypeInfo.BlockBytes(info.Type);
            ReadOnlySpan<byte> bytes = view.Bytes;
            int blocks = y.Length / blockValues;
            for (int b = 0; b < blocks; b++)
            {
                ReadOnlySpan<byte> block = bytes.Slice(b * blockBytes, blockBytes);
                for (int i = 0; i < blockValues; i++)
                {
                    float expected = SpecBlockDecoder.Value(info.Type, block, i);
                    float actual = y[b * blockValues + i];
                    if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(actual))
                        Assert.Fail($"{info.Name} ({info.Type}) block {b} value {i}: spec decoder {expected}, Dequantize {actual}");
                }
            }
            blocksPerType[info.Type] = blocksPerType.GetValueOrDefault(info.Type) + blocks;
        }
        Assert.Equal(new HashSet<GgmlType> { GgmlType.Q5_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K }, blocksPerType.Keys.ToHashSet());
    }
}
