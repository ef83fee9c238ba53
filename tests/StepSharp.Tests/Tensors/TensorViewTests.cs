using StepSharp.Formats;
using StepSharp.Tensors;

namespace StepSharp.Tests.Tensors;

public unsafe class TensorViewTests
{
    private static GgufFile File3D(out float[] values)
    {
        values = Enumerable.Range(0, 4 * 3 * 2).Select(i => i * 0.5f).ToArray();
        return GgufFile.FromBytes(new GgufWriter().AddTensor("w", [4, 3, 2], values).ToArray(), "view.gguf");
    }

    [Fact]
    public void RowsFollowGgmlOrder()
    {
        using var f = File3D(out float[] values);
        TensorView t = f.GetTensor("w");
        Assert.Equal(4, t.Ne0);
        Assert.Equal(6, t.RowCount);
        Assert.Equal(16, t.RowByteLength);
        Assert.Equal(96, t.ByteLength);
        Assert.Equal(24, t.ElementCount);
        var row = new float[4];
        for (int r = 0; r < 6; r++)
        {
            t.DequantizeRow(r, row);
            Assert.Equal(values.AsSpan(4 * r, 4).ToArray(), row); // element (i0, i1, i2) at i0 + 4*(i1 + 3*i2)
            Assert.True(t.RowPointer(r) == t.Data + 16 * r);
        }
        Assert.Equal(values, t.ToFloatArray());
        Assert.Equal("w F32 [4, 3, 2]", t.ToString());
    }

    [Fact]
    public void SpreadOutMatricesAreReadWhereTheyLie()
    {
        // Two matrices of 3 rows × 4 floats, 80 bytes apart (32 bytes of something else between them), as the kernel
        // layouts place each expert's matrices of three tensors together.
        float[] values = Enumerable.Range(0, 24).Select(i => i * 0.25f).ToArray();
        var memory = new float[20 + 12];
        Array.Copy(values, 0, memory, 0, 12);
        Array.Fill(memory, float.NaN, 12, 8);
        Array.Copy(values, 12, memory, 20, 12);
        fixed (float* p = memory)
        {
            var t = new TensorView("w", GgmlType.F32, [4, 3, 2], (byte*)p, 96, 80);
            Assert.False(t.IsContiguous);
            Assert.Equal(3, t.MatrixRows);
            Assert.Equal(80, t.MatrixStride);
            Assert.True(t.RowPointer(2) == (byte*)p + 32);
            Assert.True(t.RowPointer(3) == (byte*)p + 80);
            Assert.Equal(values, t.ToFloatArray());
            Assert.Throws<InvalidOperationException>(() => t.Bytes.Length);
            // One matrix at a time through the matmul; a range across both is refused by name.
            float[] x = [1, 2, 3, 4];
            var y = new float[3];
            using var pool = new StepSharp.Kernels.KernelThreadPool(1);
            StepSharp.Kernels.MatMul.Compute(pool, t, 3, 3, x, 1, y);
            for (int r = 0; r < 3; r++)
                Assert.Equal(values[12 + 4 * r] * 1 + values[13 + 4 * r] * 2 + values[14 + 4 * r] * 3 + values[15 + 4 * r] * 4, y[r], 5);
            var e = Assert.Throws<ArgumentException>(() => StepSharp.Kernels.MatMul.Compute(pool, t, 2, 2, x, 1, y));
            Assert.Contains("'w'", e.Message);
            // Matrices cannot overlap.
            nint at = (nint)p;
            Assert.Throws<ArgumentException>(() => new TensorView("w", GgmlType.F32, [4, 3, 2], (byte*)at, 96, 40));
        }
    }

    [Fact]
    public void OutOfRangeAccessIsRejected()
    {
        using var f = File3D(out _);
        TensorView t = f.GetTensor("w");
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Row(6));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Row(-1));
        Assert.Throws<ArgumentException>(() => t.DequantizeRow(0, new float[3]));
    }

    [Fact]
    public void ShapeIsACopyAndDisposedFilesRefuseNewViews()
    {
        var f = File3D(out _);
        f.GetTensor("w").Shape[0] = 99;
        Assert.Equal(4, f.GetTensor("w").Shape[0]);
        f.Dispose();
        Assert.Throws<ObjectDisposedException>(() => f.GetTensor("w"));
    }
}
