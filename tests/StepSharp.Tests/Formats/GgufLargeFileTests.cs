using System.Text;
using StepSharp.Formats;
using StepSharp.Tensors;

namespace StepSharp.Tests.Formats;

/// <summary>
/// A 120 GB file (sparse, so it costs no disk) on a machine with 24 GB of RAM: opening it must map it, not
/// read it, and a tensor view must reach its last row without copying anything.
/// </summary>
public class GgufLargeFileTests
{
    [Fact]
    public void OpensA120GigabyteFileWithoutReadingIt()
    {
        const long ne0 = 4096, rows = 52_083_333; // Q4_0: 2304 bytes a row → 120 GB
        long rowBytes = GgmlTypeInfo.RowBytes(GgmlType.Q4_0, ne0);
        string path = Path.Combine(Path.GetTempPath(), $"stepsharp-huge-{Environment.ProcessId}.gguf");
        try
        {
            using (var fs = new FileStream(path, FileMode.Create, FileAccess.Write))
            using (var w = new BinaryWriter(fs, Encoding.UTF8))
            {
                w.Write("GGUF"u8); w.Write(3u); w.Write(1L); w.Write(1L);
                WriteString(w, "general.architecture"); w.Write(8u); WriteString(w, "test");
                WriteString(w, "big"); w.Write(2u); w.Write(ne0); w.Write(rows); w.Write((uint)GgmlType.Q4_0); w.Write(0L);
                w.Flush();
                long dataStart = (fs.Position + 31) / 32 * 32;
                fs.SetLength(dataStart + rowBytes * rows); // sparse: no blocks are written
            }
            long before = Environment.WorkingSet;
            using var file = GgufFile.Open(path);
            TensorView big = file.GetTensor("big");
            Assert.Equal(rowBytes * rows, big.ByteLength);
            Assert.Equal(rows, big.RowCount);
            var last = new float[ne0];
            big.DequantizeRow(rows - 1, last);
            Assert.All(last, v => Assert.Equal(0f, v));
            long grown = Environment.WorkingSet - before;
            Assert.True(grown < 256L << 20, $"opening the file grew the working set by {grown >> 20} MiB");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)b.Length);
        w.Write(b);
    }
}
