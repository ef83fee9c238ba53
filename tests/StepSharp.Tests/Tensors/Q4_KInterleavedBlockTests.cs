using StepSharp.Tensors;
using StepSharp.Tensors.Blocks;
using StepSharp.Tests.Kernels;

namespace StepSharp.Tests.Tensors;

/// <summary>The kernels' K-quant layouts: lossless rearrangements of Q4_K and Q6_K blocks that decode to the same values.</summary>
public unsafe class Q4_KInterleavedBlockTests
{
    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.Q8_0)]
    public void DecodesToTheValuesOfTheBlocksItWasMadeFromAndConvertsBack(GgmlType fileType)
    {
        // Eight rows of 7 blocks: two groups of four rows whose blocks take turns.
        const int rows = 8, blocks = 7;
        GgmlType layout = StepSharp.Kernels.KernelWeightLayouts.LayoutFor(fileType, 256 * blocks, rows);
        int bytes = GgmlTypeInfo.BlockBytes(layout);   // a Q8_0 group is 8 blocks
        int rowBytes = bytes * blocks;
        byte[] original = RandomWeights.Rows(fileType, rows, 256 * blocks, seed: 5);
        byte[] interleaved = RandomWeights.Rows(layout, rows, 256 * blocks, seed: 5);   // made from the same blocks
        Assert.NotEqual(original, interleaved);

        var expected = new float[rows * 256 * blocks];
        Dequantize.Row(fileType, original, expected);
        fixed (byte* p = interleaved)
        {
            var view = new TensorView("w", layout, [256 * blocks, rows], p, interleaved.Length);
            Assert.Equal(expected, view.ToFloatArray());
            Assert.Throws<InvalidOperationException>(() => view.Row(1));   // rows are not contiguous
        }

        // Block b of row r sits at (r / 4)·4·rowBytes + (4b + r mod 4)·bytes and converts back to the file's block
        // (Q4_K's given the row's place in its group: its header words are spread over the group's four blocks).
        var back = new byte[bytes];
        fixed (byte* p = interleaved) fixed (byte* b = back)
            for (int r = 0; r < rows; r++)
                for (int block = 0; block < blocks; block++)
                {
                    byte* stored = p + r / 4 * 4 * rowBytes + (4 * block + r % 4) * bytes;
                    Assert.True(stored == p + InMemoryLayouts.RowOffset(layout, r, rowBytes) + block * InMemoryLayouts.BlockStride(layout));
                    if (fileType == GgmlType.Q4_K) Q4_KInterleavedBlock.ToQ4_K(stored, r % 4, b);
                    else if (fileType == GgmlType.Q6_K) Q6_KInterleavedBlock.ToQ6_K(stored, b);
                    else Q8_0GroupedBlock.ToQ8_0(stored, b);
                    Assert.Equal(original.AsSpan(r * rowBytes + block * bytes, bytes).ToArray(), back);
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
    public void KeepsEachGroupsHeaderWordsTransposedAcrossItsFourBlocks()
    {
        // Word k (4 bytes) of row j's Q4_K header sits in word j of block k's header, at every super-block of a group;
        // a block on its own cannot be decoded, so Dequantize refuses the layout and names the way that works.
        const int rows = 8, blocks = 3, rowBytes = 144 * blocks;
        byte[] original = RandomWeights.Rows(GgmlType.Q4_K, rows, 256 * blocks, seed: 9);
        byte[] interleaved = RandomWeights.Rows(GgmlType.Q4_KInterleaved, rows, 256 * blocks, seed: 9);
        for (int g = 0; g < rows / 4; g++)
            for (int b = 0; b < blocks; b++)
                for (int j = 0; j < 4; j++)
                    for (int k = 0; k < 4; k++)
                    {
                        int from = (4 * g + j) * rowBytes + b * 144 + 4 * k, to = 4 * g * rowBytes + (4 * b + k) * 144 + 4 * j;
                        Assert.Equal(original.AsSpan(from, 4).ToArray(), interleaved.AsSpan(to, 4).ToArray());
                    }
        var e = Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_KInterleaved, interleaved.AsSpan(0, 144), new float[256]));
        Assert.Contains("DequantizeRow", e.Message);
    }

    [Fact]
    public void IsNotATypeAFileMayDeclare()
    {
        Assert.False(GgmlTypeInfo.IsKnown(GgmlType.Q4_KInterleaved));
        Assert.True(GgmlTypeInfo.IsInMemoryLayout(GgmlType.Q4_KInterleaved));
        Assert.Equal(GgmlTypeInfo.RowBytes(GgmlType.Q4_K, 4096), GgmlTypeInfo.RowBytes(GgmlType.Q4_KInterleaved, 4096));
        Assert.Equal(GgmlTypeInfo.RowBytes(GgmlType.Q8_0, 4096), GgmlTypeInfo.RowBytes(GgmlType.Q8_0Grouped, 4096));
        Assert.Equal(GgmlType.Q8_0, StepSharp.Kernels.KernelWeightLayouts.LayoutFor(GgmlType.Q8_0, 128, 4));   // groups of 8 blocks would span rows
        Assert.Equal(GgmlType.Q4_K, StepSharp.Kernels.KernelWeightLayouts.LayoutFor(GgmlType.Q4_K, 256, 6));   // groups of 4 rows would span matrices
        Assert.Equal(GgmlType.Q4_KInterleaved, StepSharp.Kernels.KernelWeightLayouts.LayoutFor(GgmlType.Q4_K, 256, 8));
    }
}

/// <summary>The kernels' Q6_K layout: a lossless rearrangement of Q6_K blocks into the Q4_K layout's lane order.</summary>
public unsafe class Q6_KInterleavedBlockTests
{
    [Fact]
    public void LanesFollowTheQ4_KLayoutsPermutationOfTheActivations()
    {
        // Activations 0..255 permuted the Q4_K way: lane j of vector k must then hold value ValueAt(k, j).
        var q = new sbyte[256];
        var permuted = new sbyte[256];
        for (int i = 0; i < 256; i++) q[i] = (sbyte)(i - 128);
        fixed (sbyte* pq = q) fixed (sbyte* pp = permuted) StepSharp.Kernels.Dot.Q4_KInterleavedQ8Dot.PermuteActivations(pq, pp, 256);
        var seen = new bool[256];
        for (int k = 0; k < 8; k++)
            for (int lane = 0; lane < 32; lane++)
            {
                int value = Q6_KInterleavedBlock.ValueAt(k, lane);
                Assert.Equal(value - 128, permuted[32 * k + lane]);
                seen[value] = true;
            }
        Assert.All(seen, Assert.True);
    }

    [Fact]
    public void StoresSixVectorsWholeAndTwoInTheirSpareBitsWithTheScalesReordered()
    {
        // A Q6_K block whose value i is the 6-bit number (i·37 + 5) mod 64 and whose scale s is 10s − 70, written the
        // way ggml's dequantize_row_q6_K reads it; the layout must hold them where its documentation says.
        static int U(int i) => (i * 37 + 5) % 64;
        var block = new byte[210];
        for (int i = 0; i < 256; i++)
        {
            int h = i / 128, c = i % 128 / 32, l = i % 32;
            block[64 * h + 32 * (c % 2) + l] |= (byte)((U(i) & 15) << (4 * (c / 2)));
            block[128 + 32 * h + l] |= (byte)((U(i) >> 4) << (2 * c));
        }
        for (int sc = 0; sc < 16; sc++) block[192 + sc] = (byte)(sbyte)(10 * sc - 70);
        block[208] = 0x00; block[209] = 0x3c;   // d = 1
        fixed (byte* p = block) Q6_KInterleavedBlock.FromQ6_K(p, 1);
        for (int k = 0; k < 8; k++)
            for (int lane = 0; lane < 32; lane++)
            {
                int expected = U(Q6_KInterleavedBlock.ValueAt(k, lane));
                if (k < 6) Assert.Equal(expected, block[32 * k + lane] & 63);
                else
                {
                    int fromSpare = 0;
                    for (int f = 0; f < 3; f++) fromSpare |= (block[32 * (3 * (k - 6) + f) + lane] >> 6) << (2 * f);
                    Assert.Equal(expected, fromSpare);
                }
            }
        for (int s = 0; s < 16; s++) Assert.Equal(10 * Q6_KInterleavedBlock.ScaleOrder[s] - 70, (sbyte)block[192 + s]);
        Assert.Equal(0x3c00, block[208] | block[209] << 8);
    }
}
