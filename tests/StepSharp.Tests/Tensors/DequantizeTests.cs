using System.Buffers.Binary;
using StepSharp.Tensors;

namespace StepSharp.Tests.Tensors;

public class DequantizeTests
{
    /// <summary>The Q4_K block of spec gguf-format.md §3.3.</summary>
    private static byte[] SpecQ4KBlock()
    {
        var b = new byte[144];
        byte[] head = [0x00, 0x2C, 0x00, 0x30, 0x41, 0x82, 0xC3, 0x3F, 0x80, 0x44, 0xC8, 0x0C, 0x81, 0x41, 0xF0, 0x75];
        head.CopyTo(b, 0);
        for (int k = 0; k < 128; k++)
            b[16 + k] = (byte)((7 * k + 3) % 256);
        return b;
    }

    /// <summary>The Q6_K block of spec gguf-format.md §3.4.</summary>
    private static byte[] SpecQ6KBlock()
    {
        var b = new byte[210];
        for (int k = 0; k < 128; k++)
            b[k] = (byte)((5 * k + 1) % 256);
        for (int k = 0; k < 64; k++)
            b[128 + k] = (byte)((11 * k + 7) % 256);
        sbyte[] scales = [1, -1, 2, -2, 3, -3, 4, -4, 127, -128, 5, -5, 10, -10, 0, 7];
        for (int k = 0; k < 16; k++)
            b[192 + k] = (byte)scales[k];
        b[208] = 0x00;
        b[209] = 0x34;
        return b;
    }

    private static float[] Decode(GgmlType type, byte[] bytes, int values)
    {
        var y = new float[values];
        Dequantize.Row(type, bytes, y);
        return y;
    }

    [Fact]
    public void Q4KWorkedExampleFromSpec()
    {
        float[] y = Decode(GgmlType.Q4_K, SpecQ4KBlock(), 256);
        Assert.Equal(0.1875f, y[0]);
        Assert.Equal(-0.5f, y[32]);
        Assert.Equal(57.5625f, y[100]);
        Assert.Equal(-1.8125f, y[128]);
        Assert.Equal(1.3125f, y[255]);
        float[] every16 = [0.1875f, 0.1875f, -0.5f, 0.375f, -0.4375f, -0.4375f, 53.625f, 18.1875f, -1.8125f, -1.8125f, 22.25f, 3.6875f, 1.125f, 1.125f, 2.25f, -0.5625f];
        for (int k = 0; k < 16; k++)
            Assert.Equal(every16[k], y[16 * k]);
        Assert.Equal(1864.0, y.Sum(v => (double)v));
        Assert.Equal(2024.375, y.Sum(v => Math.Abs((double)v)));
        Assert.Equal(53738.75, y.Sum(v => (double)v * v));
        Assert.Equal(-7.875f, y.Min());
        Assert.Equal(57.5625f, y.Max());
    }

    [Fact]
    public void Q6KWorkedExampleFromSpec()
    {
        float[] y = Decode(GgmlType.Q6_K, SpecQ6KBlock(), 256);
        Assert.Equal(4.25f, y[0]);
        Assert.Equal(-7.5f, y[32]);
        Assert.Equal(-22f, y[96]);
        Assert.Equal(539.75f, y[128]);
        Assert.Equal(-544f, y[144]);
        Assert.True(y[224] == 0 && float.IsNegative(y[224]), "y[224] must be -0.0");
        float[] every16 = [4.25f, -4.25f, -7.5f, 7.5f, -24f, -15.75f, -22f, -15f, 539.75f, -544f, -18.75f, 18.75f, 10f, 17.5f, -0.0f, -50.75f];
        for (int k = 0; k < 16; k++)
            Assert.Equal(BitConverter.SingleToInt32Bits(every16[k]), BitConverter.SingleToInt32Bits(y[16 * k]));
        Assert.Equal(-511.75, y.Sum(v => (double)v));
        Assert.Equal(20158.25, y.Sum(v => Math.Abs((double)v)));
        Assert.Equal(11486925.5625, y.Sum(v => (double)v * v));
        Assert.Equal(-1016f, y.Min());
        Assert.Equal(1024f, y.Max());
        Assert.Equal(7, y.Count(v => v == 0 && float.IsNegative(v)));
        Assert.Equal(13, y.Count(v => v == 0 && !float.IsNegative(v)));
    }

    [Fact]
    public void Q8_0HandBuiltBlock()
    {
        // d = fp16 0x3800 = 0.5; qs[i] = i*8 - 128 → y[i] = (i*8 - 128)/2 exactly.
        var b = new byte[34];
        b[0] = 0x00;
        b[1] = 0x38;
        for (int i = 0; i < 32; i++)
            b[2 + i] = (byte)(sbyte)(i * 8 - 128);
        float[] y = Decode(GgmlType.Q8_0, b, 32);
        for (int i = 0; i < 32; i++)
            Assert.Equal((i * 8 - 128) / 2.0f, y[i]);
    }

    [Fact]
    public void Q4_0AndQ5_0NibbleOrderHandBuilt()
    {
        // Q4_0, d = 1.0 (0x3C00): byte k = (15-k)<<4 | k → value k = k-8, value k+16 = 7-k.
        var q4 = new byte[18];
        q4[1] = 0x3C;
        for (int k = 0; k < 16; k++)
            q4[2 + k] = (byte)((15 - k) << 4 | k);
        float[] y4 = Decode(GgmlType.Q4_0, q4, 32);
        for (int k = 0; k < 16; k++)
        {
            Assert.Equal(k - 8, y4[k]);
            Assert.Equal(7 - k, y4[k + 16]);
        }

        // Q5_0, d = 2.0 (0x4000), qh = 0xAAAAAAAA (odd values get bit 4), same nibbles:
        // value i = ((nibble | (i odd ? 16 : 0)) - 16) * 2.
        var q5 = new byte[22];
        q5[1] = 0x40;
        BinaryPrimitives.WriteUInt32LittleEndian(q5.AsSpan(2), 0xAAAAAAAA);
        for (int k = 0; k < 16; k++)
            q5[6 + k] = (byte)((15 - k) << 4 | k);
        float[] y5 = Decode(GgmlType.Q5_0, q5, 32);
        for (int i = 0; i < 32; i++)
        {
            int nibble = i < 16 ? i : 15 - (i - 16);
            int n5 = nibble | (i % 2 == 1 ? 16 : 0);
            Assert.Equal((n5 - 16) * 2.0f, y5[i]);
        }
    }

    [Fact]
    public void FloatTypesDecodeExactly()
    {
        float[] values = [0f, -0f, 1f, -2.5f, 65504f, 6.1035156e-05f, 5.9604645e-08f, float.PositiveInfinity];
        var f16 = new byte[values.Length * 2];
        var bf16 = new byte[values.Length * 2];
        var f32 = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(f16.AsSpan(2 * i), (Half)values[i]);
            BinaryPrimitives.WriteUInt16LittleEndian(bf16.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16));
            BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(4 * i), values[i]);
        }
        Assert.Equal(values, Decode(GgmlType.F16, f16, values.Length)); // all exactly representable in fp16
        Assert.Equal(values.Select(v => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(v) & 0xFFFF0000)), Decode(GgmlType.BF16, bf16, values.Length));
        Assert.Equal(values, Decode(GgmlType.F32, f32, values.Length));
    }

    public static TheoryData<GgmlType> BlockTypes() => new()
    {
        GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K,
    };

    [Theory]
    [MemberData(nameof(BlockTypes))]
    public void RandomBlocksMatchTheSpecFormulaBitForBit(GgmlType type)
    {
        var rng = new Random(20260723 + (int)type);
        int blockValues = GgmlTypeInfo.BlockSize(type), blockBytes = GgmlTypeInfo.BlockBytes(type);
        const int blocks = 64;
        var bytes = new byte[blocks * blockBytes];
        rng.NextBytes(bytes);
        for (int blk = 0; blk < blocks; blk++)
            MakeScaleFieldsFinite(type, bytes.AsSpan(blk * blockBytes, blockBytes), rng);

        var y = new float[blocks * blockValues];
        Dequantize.Row(type, bytes, y);
        for (int blk = 0; blk < blocks; blk++)
        {
            ReadOnlySpan<byte> block = bytes.AsSpan(blk * blockBytes, blockBytes);
            for (int i = 0; i < blockValues; i++)
            {
                float expected = SpecBlockDecoder.Value(type, block, i);
                if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(y[blk * blockValues + i]))
                    Assert.Fail($"{type} block {blk} value {i}: expected {expected}, got {y[blk * blockValues + i]}");
            }
        }
    }

    /// <summary>Random bytes in a d field could be NaN/Inf; replace them with random finite scales.</summary>
    internal static void MakeScaleFieldsFinite(GgmlType type, Span<byte> block, Random rng)
    {
        int[] halfOffsets = type switch
        {
            GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => [0],
            GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
            GgmlType.Q2_K => [80, 82],
            GgmlType.Q3_K => [108],
            GgmlType.Q6_K => [208],
            _ => [],
        };
        foreach (int o in halfOffsets)
            BinaryPrimitives.WriteHalfLittleEndian(block[o..], (Half)(rng.NextSingle() * 4 - 2));
        if (type == GgmlType.Q8_K)
            BinaryPrimitives.WriteSingleLittleEndian(block, rng.NextSingle() * 4 - 2);
    }

    [Fact]
    public void RowRejectsWrongSizesAndUnsupportedTypes()
    {
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q8_0, new byte[34], new float[31]));
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q8_0, new byte[33], new float[32]));
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.IQ2_XXS, new byte[66], new float[256]));
        Assert.False(GgmlTypeInfo.CanDequantize(GgmlType.IQ2_XXS));
        Assert.Throws<ArgumentException>(() => GgmlTypeInfo.RowBytes(GgmlType.Q4_K, 128));
        Assert.Equal(144 * 2, GgmlTypeInfo.RowBytes(GgmlType.Q4_K, 512));
    }
}
