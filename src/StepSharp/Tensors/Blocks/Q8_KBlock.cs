using System.Buffers.Binary;

namespace StepSharp.Tensors.Blocks;

/// <summary>
/// Q8_K: 256 values, 292 bytes (spec gguf-format.md §3.2). An activation type, rare in files.
/// Layout: 0 d f32 (not fp16); 4 qs int8[256]; 260 bsums int16[16]. Value i = d*qs[i].
/// </summary>
internal static class Q8_KBlock
{
    public const int Values = 256;
    public const int Bytes = 292;

    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        float d = BinaryPrimitives.ReadSingleLittleEndian(block);
        for (int i = 0; i < Values; i++)
            y[i] = d * (sbyte)block[4 + i];
    }
}
