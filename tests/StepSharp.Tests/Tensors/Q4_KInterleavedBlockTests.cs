using StepSharp.Tensors;
using StepSharp.Tensors.Blocks;
using StepSharp.Tests.Kernels;

namespace StepSharp.Tests.Tensors;

/// <summary>The kernels' Q4_K layout: a lossless rearrangement of Q4_K blocks that decodes to the same values.</summary>
public unsafe class Q4_KInterleavedBlockTests
{
    [Fact]
    public void DecodesToTheValuesOfTheQ4_KBlocksItWasMadeFromAndConvertsBack()
    {
        byte[] q4k = RandomWeights.Rows(GgmlType.Q4_K, 3, 256 * 7, seed: 5);
        byte[] interleaved = (byte[])q4k.Clone();
        fixed (byte* p = interleaved) Q4_KInterleavedBlock.FromQ4_K(p, interleaved.Length / Q4_KInterleavedBlock.Bytes);
        Assert.NotEqual(q4k, interleaved);

        var expected = new float[3 * 256 * 7];
        var actual = new float[expected.Length];
        Dequantize.Row(GgmlType.Q4_K, q4k, expected);
        Dequantize.Row(GgmlType.Q4_KInterleaved, interleaved, actual);
        Assert.Equal(expected, actual);

        var back = new byte[Q4_KInterleavedBlock.Bytes];
        fixed (byte* p = interleaved) fixed (byte* b = back)
            for (int block = 0; block < interleaved.Length / Q4_KInterleavedBlock.Bytes; block++)
            {
                Q4_KInterleavedBlock.ToQ4_K(p + block * Q4_KInterleavedBlock.Bytes, b);
                Assert.Equal(q4k.AsSpan(block * 144, 144).ToArray(), back);
            }
    }

    [Fact]
    public void PutsValueEightVPlusIOfSubBlockGAtTheDocumentedByteAndNibble()
    {
        // A Q4_K block whose quant for value k of the super-block is k mod 16, read back from the documented place:
        // byte 16 + 32v + 8g + i holds value 8v + i of sub-block g (low nibble) and of sub-block 4 + g (high).
        var block = new byte[144];
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                block[16 + 32 * c + l] = (byte)(((64 * c + l) % 16) | ((64 * c + 32 + l) % 16) << 4);
        fixed (byte* p = block) Q4_KInterleavedBlock.FromQ4_K(p, 1);
        for (int v = 0; v < 4; v++)
            for (int g = 0; g < 4; g++)
                for (int i = 0; i < 8; i++)
                {
                    byte b = block[16 + 32 * v + 8 * g + i];
                    Assert.Equal((32 * g + 8 * v + i) % 16, b & 15);
                    Assert.Equal((32 * (4 + g) + 8 * v + i) % 16, b >> 4);
                }
    }

    [Fact]
    public void IsNotATypeAFileMayDeclare()
    {
        Assert.False(GgmlTypeInfo.IsKnown(GgmlType.Q4_KInterleaved));
        Assert.True(GgmlTypeInfo.IsInMemoryLayout(GgmlType.Q4_KInterleaved));
        Assert.Equal(GgmlTypeInfo.RowBytes(GgmlType.Q4_K, 4096), GgmlTypeInfo.RowBytes(GgmlType.Q4_KInterleaved, 4096));
    }
}
