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
