using StepSharp.Formats;
using StepSharp.Tensors;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Kernels;

/// <summary>
/// Rewrites weights, at load, into the layouts the decode kernels read fastest. Today that is Q4_K →
/// <see cref="GgmlType.Q4_KInterleaved"/>, Q6_K → <see cref="GgmlType.Q6_KInterleaved"/> and Q8_0 (rows of a multiple
/// of 256 values) → <see cref="GgmlType.Q8_0Grouped"/>: the same bytes rearranged (see <see cref="Dot.Q4_KInterleavedQ8Dot"/>,
/// <see cref="Dot.Q6_KInterleavedQ8Dot"/>, <see cref="Dot.Q8_0GroupedQ8Dot"/>).
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

    /// <summary>The layout a tensor of <paramref name="type"/> with rows of <paramref name="ne0"/> values is rewritten into, or the type itself.</summary>
    public static GgmlType LayoutFor(GgmlType type, long ne0) => type switch
    {
        GgmlType.Q4_K => GgmlType.Q4_KInterleaved,
        GgmlType.Q6_K => GgmlType.Q6_KInterleaved,
        GgmlType.Q8_0 when ne0 % Q8_0GroupedBlock.Values == 0 => GgmlType.Q8_0Grouped,   // groups of 8 blocks do not span rows
        _ => type,
    };

    /// <summary>Rewrites every tensor that has a kernel layout (nothing on the scalar tier or when disabled); returns how many.</summary>
    public static unsafe int Apply(GgufFile file)
    {
        if (!Enabled || KernelIsa.Current == Isa.Scalar) return 0;
        var names = new List<string>();
        long total = 0;
        foreach (GgufTensorInfo info in file.Tensors)
        {
            TensorView view = file.GetTensor(info.Name);
            if (LayoutFor(view.Type, view.Ne0) == view.Type) continue;
            names.Add(info.Name);
            total += Aligned(view.ByteLength);
        }
        if (names.Count == 0) return 0;
        if (file.HoldsPrivateCopy)
        {
            foreach (string name in names)
            {
                TensorView view = file.GetTensor(name);
                GgmlType layout = LayoutFor(view.Type, view.Ne0);
                file.ConvertTensorInPlace(name, layout, v => Rewrite(layout, v.Data, v.ByteLength));
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
                GgmlType layout = LayoutFor(view.Type, view.Ne0);
                Buffer.MemoryCopy(view.Data, data, view.ByteLength, view.ByteLength);
                Rewrite(layout, data, view.ByteLength);
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

    /// <summary>Rewrites a tensor's blocks into <paramref name="layout"/> in place, in parallel slices of 16K blocks.</summary>
    private static unsafe void Rewrite(GgmlType layout, byte* data, long bytes)
    {
        const long SliceBlocks = 16384;
        int blockBytes = GgmlTypeInfo.BlockBytes(layout);   // Q8_0Grouped's block is eight Q8_0 blocks
        long blocks = bytes / blockBytes;
        nint start = (nint)data;
        Parallel.For(0, (blocks + SliceBlocks - 1) / SliceBlocks, slice =>
        {
            byte* p = (byte*)start + slice * SliceBlocks * blockBytes;
            long count = Math.Min(SliceBlocks, blocks - slice * SliceBlocks);
            InMemoryLayouts.FromFileLayout(layout, p, count);
        });
    }

    /// <summary>Each copied tensor starts on a cache line.</summary>
    private static long Aligned(long bytes) => (bytes + 63) & ~63L;
}
