using StepSharp.Kernels;
using StepSharp.Tensors;

namespace StepSharp.Tests.Kernels;

/// <summary>Prefill's panel decoder must give exactly the reference dequantization's values, panel by panel.</summary>
public unsafe class WeightPanelTests
{
    public static TheoryData<GgmlType, Isa> Cases()
    {
        var data = new TheoryData<GgmlType, Isa>();
        foreach (GgmlType type in RandomWeights.FusedTypes)
            if (GgmlTypeInfo.BlockSize(type) > 1)
                foreach (Isa isa in KernelIsa.Supported())
                    data.Add(type, isa);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PanelsAreBitIdenticalToDequantizeRow(GgmlType type, Isa isa)
    {
        const int values = 2304; // two 1024-value panels and a 256-value one
        int rows = RandomWeights.RowsFor(type, 1);   // the kernel layouts: every row of a group of four
        byte[] data = RandomWeights.Rows(type, rows, values, seed: (int)type);
        var expected = new float[values];
        var actual = new float[values];
        fixed (byte* pr = data)
        fixed (float* pa = actual)
        {
            var weights = new TensorView("w", type, [values, rows], pr, data.Length);
            for (int r = 0; r < rows; r++)
            {
                weights.DequantizeRow(r, expected);
                for (int k0 = 0; k0 < values; k0 += MatMul.PanelValues)
                    WeightPanel.Decode(type, weights.RowPointer(r), r % 4, k0, Math.Min(MatMul.PanelValues, values - k0), pa + k0, isa);
                for (int i = 0; i < values; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{type} {isa} row {r} value {i}: {actual[i]} vs {expected[i]}");
            }
        }
    }

    /// <summary>Q8_0 (also the Q8_0 KV cache's rows): subnormal, zero, −0, largest, inf and NaN scales as the reference has them.</summary>
    [Fact]
    public void Q8_0PanelsKeepEveryKindOfScale()
    {
        const int blocks = 9;
        var bytes = new byte[blocks * 34];
        new Random(5).NextBytes(bytes);
        // Scales: ordinary, subnormal, negative, zero, -0, the largest finite, inf and NaN (the rest random bits).
        ushort[] scales = [0x3c00, 0x0001, 0xb800, 0x0000, 0x8000, 0x7bff, 0x7c00, 0x7e00];
        for (int b = 0; b < scales.Length; b++) BitConverter.TryWriteBytes(bytes.AsSpan(34 * b, 2), scales[b]);
        var expected = new float[blocks * 32];
        Dequantize.Row(GgmlType.Q8_0, bytes, expected);
        foreach (Isa isa in KernelIsa.Supported())
        {
            var got = new float[blocks * 32];
            fixed (byte* pb = bytes) fixed (float* pg = got) WeightPanel.Decode(GgmlType.Q8_0, pb, 0, 0, got.Length, pg, isa);
            for (int i = 0; i < got.Length; i++)
                Assert.True(float.IsNaN(expected[i]) ? float.IsNaN(got[i]) : BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(got[i]),
                    $"{isa}: value {i} (block {i / 32}): {got[i]} vs {expected[i]}");
        }
    }
}
