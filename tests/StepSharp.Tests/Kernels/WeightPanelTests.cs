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
}
