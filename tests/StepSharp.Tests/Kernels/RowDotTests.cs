using StepSharp.Kernels;
using StepSharp.Kernels.Dot;
using StepSharp.Tensors;

namespace StepSharp.Tests.Kernels;

/// <summary>Every fused dot kernel, on every tier this machine runs, against Dequantize.Row + a double-precision dot.</summary>
public class RowDotTests
{
    public static TheoryData<GgmlType, Isa, int> Cases()
    {
        var data = new TheoryData<GgmlType, Isa, int>();
        foreach (GgmlType type in RandomWeights.FusedTypes)
            foreach (Isa isa in KernelIsa.Supported())
                foreach (int blocks in new[] { 1, 3, 7, 16 })
                    data.Add(type, isa, blocks);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesDequantizeThenDot(GgmlType type, Isa isa, int blocks)
    {
        // F32/F16/BF16 have 1-value "blocks"; give them odd lengths that exercise every vector tail.
        int values = GgmlTypeInfo.BlockSize(type) == 1 ? 16 * blocks + blocks : GgmlTypeInfo.BlockSize(type) * blocks;
        int rows = RandomWeights.RowsFor(type, 5);
        byte[] data = RandomWeights.Rows(type, rows, values, seed: values + (int)type);
        float[] x = RandomWeights.Vector(values, seed: 7 * values, scale: 3f);
        int rowBytes = (int)GgmlTypeInfo.RowBytes(type, values);
        for (int r = 0; r < rows; r++)
        {
            float actual;
            double expected, magnitude;
            if (GgmlTypeInfo.IsInMemoryLayout(type))
            {
                // Rows in groups of four: the kernel takes the row's first block and steps over the other rows'.
                unsafe
                {
                    fixed (byte* p = data)
                    {
                        var weights = new TensorView("w", type, [values, rows], p, data.Length);
                        (expected, magnitude) = RandomWeights.Reference(weights, r, x);
                        actual = RowDot.Compute(type, weights.RowPointer(r), x, isa, r % 4);
                    }
                }
            }
            else
            {
                ReadOnlySpan<byte> row = data.AsSpan(r * rowBytes, rowBytes);
                (expected, magnitude) = RandomWeights.Reference(type, row, x);
                actual = RowDot.Compute(type, row, x, isa);
            }
            // f32 accumulation in a different order: error well under 1e-5 of Σ|w·x|.
            Assert.True(Math.Abs(actual - expected) <= 1e-5 * magnitude + 1e-30,
                $"{type} {isa} row {r}: {actual} vs reference {expected} (Σ|w·x| = {magnitude})");
        }
    }

    [Fact]
    public void HalfWideningIsExactForEveryBitPattern()
    {
        var halves = new ushort[65536];
        for (int i = 0; i < halves.Length; i++) halves[i] = (ushort)i;
        unsafe
        {
            fixed (ushort* h = halves)
            {
                for (int i = 0; i < 65536; i++)
                {
                    float expected = (float)BitConverter.UInt16BitsToHalf((ushort)i);
                    float actual = Widen.Half((byte*)(h + i));
                    Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual) || (float.IsNaN(expected) && float.IsNaN(actual)),
                        $"0x{i:X4}: {actual} vs {expected}");
                }
                if (KernelIsa.IsSupported(Isa.Avx512))
                {
                    for (int i = 0; i < 65536; i += 16)
                    {
                        var v = Widen.Halves512(System.Runtime.Intrinsics.Vector256.Load(h + i));
                        for (int j = 0; j < 16; j++)
                            Assert.Equal(BitConverter.SingleToUInt32Bits(Widen.Half((byte*)(h + i + j))), BitConverter.SingleToUInt32Bits(v[j]));
                    }
                }
                if (KernelIsa.IsSupported(Isa.Avx2))
                {
                    for (int i = 0; i < 65536; i += 8)
                    {
                        var v = Widen.Halves256(System.Runtime.Intrinsics.Vector128.Load(h + i));
                        for (int j = 0; j < 8; j++)
                            Assert.Equal(BitConverter.SingleToUInt32Bits(Widen.Half((byte*)(h + i + j))), BitConverter.SingleToUInt32Bits(v[j]));
                    }
                    // The strided form the Q8_0/Q4_0/Q5_0 kernels use: the scales of 8 blocks of 34 bytes (Q8_0's), every pattern.
                    var blocks = new ushort[65536 * 17];
                    for (int i = 0; i < 65536; i++) blocks[17 * i] = (ushort)i;
                    fixed (ushort* b = blocks)
                        for (int i = 0; i < 65536; i += 8)
                        {
                            var v = Widen.BlockScales8((byte*)(b + 17 * i), 34);
                            for (int j = 0; j < 8; j++)
                                Assert.Equal(BitConverter.SingleToUInt32Bits(Widen.Half((byte*)(h + i + j))), BitConverter.SingleToUInt32Bits(v[j]));
                        }
                }
            }
        }
    }

    [Fact]
    public void KScalesUnpackMatchesTheSpecPacking()
    {
        var rng = new Random(3);
        var packed = new byte[12];
        var unpacked = new byte[16];
        for (int trial = 0; trial < 1000; trial++)
        {
            rng.NextBytes(packed);
            unsafe
            {
                fixed (byte* s = packed)
                fixed (byte* d = unpacked)
                    Widen.KScales(s, d);
            }
            for (int j = 0; j < 8; j++)
            {
                // spec §3.2 "Q4_K": written out independently of KScales6.
                int sc = j < 4 ? packed[j] & 63 : (packed[j + 4] & 15) | (packed[j - 4] >> 6) << 4;
                int m = j < 4 ? packed[j + 4] & 63 : (packed[j + 4] >> 4) | (packed[j] >> 6) << 4;
                Assert.Equal(sc, unpacked[j]);
                Assert.Equal(m, unpacked[8 + j]);
            }
        }
    }

    [Fact]
    public void BadInputIsRejectedWithTheReason()
    {
        var x = new float[64];
        var ex = Assert.Throws<ArgumentException>(() => RowDot.Compute(GgmlType.Q8_0, new byte[33], x));
        Assert.Contains("68 bytes", ex.Message);
        Assert.Throws<ArgumentException>(() => RowDot.Compute(GgmlType.Q8_0, new byte[34], new float[33]));
        Assert.Throws<ArgumentException>(() => RowDot.Compute(GgmlType.Q2_K, new byte[84], new float[256]));
    }
}
