using StepSharp.Formats;
using StepSharp.Tensors;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Kernels;

/// <summary>
/// Rewrites weights, at load, into the layouts the decode kernels read fastest. Today that is Q4_K →
/// <see cref="GgmlType.Q4_KInterleaved"/>, Q6_K → <see cref="GgmlType.Q6_KInterleaved"/> and Q8_0 (rows of a multiple
/// of 256 values) → <see cref="GgmlType.Q8_0Grouped"/>: the same bytes rearranged (see <see cref="Dot.Q4_KInterleavedQ8Dot"/>,
/// <see cref="Dot.Q6_KInterleavedQ8Dot"/>, <see cref="Dot.Q8_0GroupedQ8Dot"/>), with rows in groups of four
/// (<see cref="InMemoryLayouts"/>), so matrices of other row counts keep the file's layout.
/// A file read into memory of its own (<see cref="GgufFile.Load"/>, <c>--no-mmap</c>) is rewritten in place; from a
/// mapped file those tensors are copied into one huge-page buffer and rewritten there, the other tensors stay mapped
/// (llama.cpp does the same for the types it repacks at load). Blocks are rewritten on all cores. The copy is skipped
/// when it would take more than half of the memory the process may use, or cannot be allocated. Every kernel, the panel decoder and <see cref="Dequantize"/> read
/// the new layout, so results do not depend on it beyond the order of additions. <c>STEPSHARP_REPACK=0</c> turns it
/// off (to compare).
/// </summary>
public static class KernelWeightLayouts
{
    public const string EnvironmentVariable = "STEPSHARP_REPACK";

    /// <summary>True unless the environment turns rewriting off.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable(EnvironmentVariable) is not ("0" or "false");

    /// <summary>
    /// The layout a tensor of <paramref name="type"/> with rows of <paramref name="ne0"/> values, <paramref name="ne1"/>
    /// rows a matrix (an expert's, for 3-D tensors), is rewritten into, or the type itself. The layouts keep rows in
    /// groups of four that must not span matrices (<see cref="InMemoryLayouts"/>).
    /// </summary>
    public static GgmlType LayoutFor(GgmlType type, long ne0, long ne1) => ne1 % InMemoryLayouts.GroupRows != 0 ? type : type switch
    {
        GgmlType.Q4_K => GgmlType.Q4_KInterleaved,
        GgmlType.Q6_K => GgmlType.Q6_KInterleaved,
        GgmlType.Q8_0 when ne0 % Q8_0GroupedBlock.Values == 0 => GgmlType.Q8_0Grouped,   // groups of 8 blocks do not span rows
        _ => type,
    };

    private static GgmlType LayoutFor(in TensorView view) => LayoutFor(view.Type, view.Ne0, view.Shape.Length > 1 ? view.Shape[1] : 1);

    /// <summary>Rewrites every tensor that has a kernel layout (nothing on the scalar tier or when disabled); returns how many.</summary>
    public static unsafe int Apply(GgufFile file)
    {
        if (!Enabled || KernelIsa.Current == Isa.Scalar) return 0;
        var names = new List<string>();
        long total = 0;
        foreach (GgufTensorInfo info in file.Tensors)
        {
            TensorView view = file.GetTensor(info.Name);
            if (LayoutFor(view) == view.Type) continue;
            names.Add(info.Name);
            total += Aligned(view.ByteLength);
        }
        if (names.Count == 0) return 0;
        if (file.HoldsPrivateCopy)
        {
            foreach (string name in names)
            {
                TensorView view = file.GetTensor(name);
                GgmlType layout = LayoutFor(view);
                file.ConvertTensorInPlace(name, layout, v => Rewrite(layout, v.Data, v.RowCount, v.RowByteLength));
            }
            return names.Count;
        }
        if (total > GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2) return 0;
        LargePageBuffer copy;
        try
        {
            copy = new LargePageBuffer(total);
        }
        catch (OutOfMemoryException)
        {
            return 0;   // the file's layouts work too, only slower
        }
        bool owned = false;
        try
        {
            long offset = 0;
            foreach (string name in names)
            {
                TensorView view = file.GetTensor(name);
                byte* data = copy.Data + offset;
                GgmlType layout = LayoutFor(view);
                Buffer.MemoryCopy(view.Data, data, view.ByteLength, view.ByteLength);
                Rewrite(layout, data, view.RowCount, view.RowByteLength);
                file.RelocateTensor(name, layout, data, owned ? null : copy);
                owned = true;
                offset += Aligned(view.ByteLength);
            }
        }
        catch
        {
            if (!owned) copy.Dispose();
            throw;
        }
        return names.Count;
    }

    /// <summary>Rewrites a tensor's rows into <paramref name="layout"/> in place, in parallel slices of whole row groups.</summary>
    private static unsafe void Rewrite(GgmlType layout, byte* data, long rows, long rowBytes)
    {
        long sliceRows = Math.Max(InMemoryLayouts.GroupRows, (1L << 20) / rowBytes & ~(long)(InMemoryLayouts.GroupRows - 1));   // ~1 MB a slice
        nint start = (nint)data;
        Parallel.For(0, (rows + sliceRows - 1) / sliceRows, slice =>
        {
            long first = slice * sliceRows;
            InMemoryLayouts.FromFileLayout(layout, (byte*)start + first * rowBytes, Math.Min(sliceRows, rows - first), rowBytes);
        });
    }

    /// <summary>Each copied tensor starts on a cache line.</summary>
    private static long Aligned(long bytes) => (bytes + 63) & ~63L;
}
