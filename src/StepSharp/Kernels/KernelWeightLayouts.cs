using System.Runtime.InteropServices;
using StepSharp.Formats;
using StepSharp.Tensors;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Kernels;

/// <summary>
/// Rewrites weights, at load, into the layouts the decode kernels read fastest. Today that is Q4_K →
/// <see cref="GgmlType.Q4_KInterleaved"/>, Q6_K → <see cref="GgmlType.Q6_KInterleaved"/> and Q8_0 (rows of a multiple
/// of 256 values) → <see cref="GgmlType.Q8_0Grouped"/>: the same bytes rearranged (see <see cref="Dot.Q4_KInterleavedQ8Dot"/>,
/// <see cref="Dot.Q6_KInterleavedQ8Dot"/>, <see cref="Dot.Q8_0GroupedQ8Dot"/>), with rows in groups of four
/// (<see cref="InMemoryLayouts"/>), so matrices of other row counts keep the file's layout. A layer's routed experts
/// are placed expert by expert (each expert's gate, up and down matrices together; the tensors' views then have their
/// matrices spread out, <see cref="TensorView.MatrixStride"/>).
/// A file read into memory of its own (<see cref="GgufFile.Load"/>, <c>--no-mmap</c>) is rewritten in place; from a
/// mapped file those tensors are copied into one huge-page buffer and rewritten there, the other tensors stay mapped
/// (llama.cpp does the same for the types it repacks at load). Blocks are rewritten on all cores. The copy is skipped
/// when it would take more than half of the memory the process may use, or cannot be allocated. A Q4_K or Q8_0 tensor
/// with an infinite or NaN scale keeps the file's layout (the layouts' kernels convert fp16 scales without that case). Every kernel, the panel decoder and <see cref="Dequantize"/> read
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

    /// <summary>
    /// Rewrites every tensor that has a kernel layout (nothing on the scalar tier or when disabled); returns how many.
    /// A layer's routed experts are also placed expert by expert (<see cref="ExpertTriples"/>).
    /// </summary>
    public static unsafe int Apply(GgufFile file)
    {
        if (!Enabled || KernelIsa.Current == Isa.Scalar) return 0;
        var names = new List<string>();
        long total = 0;
        foreach (GgufTensorInfo info in file.Tensors)
        {
            TensorView view = file.GetTensor(info.Name);
            if (LayoutFor(view) == view.Type || !KernelReads(view)) continue;
            names.Add(info.Name);
            total += Aligned(view.ByteLength);
        }
        if (names.Count == 0) return 0;
        List<string[]> triples = ExpertTriples(file, names);
        if (file.HoldsPrivateCopy)
        {
            var done = new HashSet<string>();
            foreach (string[] triple in triples)
                if (InterleaveInPlace(file, triple)) done.UnionWith(triple);
            foreach (string name in names)
            {
                if (done.Contains(name)) continue;
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
            var placed = new HashSet<string>();
            foreach (string[] triple in triples)
            {
                long bytes = 0;
                foreach (string name in triple) bytes += file.GetTensor(name).ByteLength;
                Interleave(file, triple, copy.Data + offset, owned ? null : copy);
                owned = true;
                placed.UnionWith(triple);
                offset += Aligned(bytes);
            }
            foreach (string name in names)
            {
                if (placed.Contains(name)) continue;
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

    /// <summary>
    /// The layers' routed experts to place expert by expert: blk.N.ffn_{gate,up,down}_exps.weight when all three are
    /// rewritten and have the same number of experts. A decode step runs a selected expert's gate, up and down
    /// matrices one after another (each 147 KB in the mini model); with each expert's three together that is one
    /// stream instead of three, and starting a stream is what costs: one thread, from DRAM, expert-sized 144 KB chunks
    /// in shuffled order reach 57–58 % of the probe, 432 KB chunks 64–78 % (`quick chunks Q4_KInterleaved 1024 256`
    /// and `768`, in order 70–71 % and 65–80 %).
    /// </summary>
    private static List<string[]> ExpertTriples(GgufFile file, List<string> rewritten)
    {
        var set = new HashSet<string>(rewritten);
        var triples = new List<string[]>();
        foreach (string gate in rewritten)
        {
            if (!gate.EndsWith(".ffn_gate_exps.weight", StringComparison.Ordinal)) continue;
            string prefix = gate[..^"ffn_gate_exps.weight".Length];
            string[] triple = [gate, prefix + "ffn_up_exps.weight", prefix + "ffn_down_exps.weight"];
            if (!set.Contains(triple[1]) || !set.Contains(triple[2])) continue;
            TensorView g = file.GetTensor(triple[0]), u = file.GetTensor(triple[1]), d = file.GetTensor(triple[2]);
            if (g.Shape.Length != 3 || u.Shape.Length != 3 || d.Shape.Length != 3 || u.Shape[2] != g.Shape[2] || d.Shape[2] != g.Shape[2]) continue;
            triples.Add(triple);
        }
        return triples;
    }

    /// <summary>
    /// Writes the three tensors of <paramref name="triple"/> (in their file layouts, contiguous) to <paramref name="destination"/>
    /// expert by expert, each matrix rewritten into its kernel layout, and points the file's tensors there with their
    /// experts one expert's three matrices apart.
    /// </summary>
    private static unsafe void Interleave(GgufFile file, string[] triple, byte* destination, IDisposable? owner) =>
        Interleave(file, triple, destination, owner, [file.GetTensor(triple[0]), file.GetTensor(triple[1]), file.GetTensor(triple[2])]);

    private static unsafe void Interleave(GgufFile file, string[] triple, byte* destination, IDisposable? owner, TensorView[] sources)
    {
        long experts = sources[0].Shape[2];
        var matrixBytes = new long[3];
        var offsets = new long[3];
        var layouts = new GgmlType[3];
        long expertBytes = 0;
        for (int t = 0; t < 3; t++)
        {
            matrixBytes[t] = sources[t].MatrixRows * sources[t].RowByteLength;
            offsets[t] = expertBytes;
            expertBytes += matrixBytes[t];
            layouts[t] = LayoutFor(sources[t]);
        }
        nint dst = (nint)destination;
        Parallel.For(0, experts, e =>
        {
            for (int t = 0; t < 3; t++)
            {
                byte* to = (byte*)dst + e * expertBytes + offsets[t];
                Buffer.MemoryCopy(sources[t].Data + e * matrixBytes[t], to, matrixBytes[t], matrixBytes[t]);
                InMemoryLayouts.FromFileLayout(layouts[t], to, sources[t].MatrixRows, sources[t].RowByteLength);
            }
        });
        for (int t = 0; t < 3; t++)
            file.RelocateTensor(triple[t], layouts[t], destination + offsets[t], t == 0 ? owner : null, expertBytes);
    }

    /// <summary>
    /// <see cref="Interleave(GgufFile, string[], byte*, IDisposable?)"/> within a private copy, over the bytes the three
    /// tensors take there when they lie together (in a GGUF written in the usual order, only alignment padding between
    /// them): the region is copied aside first. Returns false, changing nothing, when they do not lie together or the
    /// copy cannot be allocated.
    /// </summary>
    private static unsafe bool InterleaveInPlace(GgufFile file, string[] triple)
    {
        TensorView[] views = [file.GetTensor(triple[0]), file.GetTensor(triple[1]), file.GetTensor(triple[2])];
        byte* start = views[0].Data, end = views[0].Data + views[0].ByteLength;
        long bytes = 0;
        foreach (TensorView v in views)
        {
            if (v.Data < start) start = v.Data;
            if (v.Data + v.ByteLength > end) end = v.Data + v.ByteLength;
            bytes += v.ByteLength;
        }
        long region = end - start;
        if (region - bytes > 3 * 4096) return false;   // something else lies between them
        byte* aside;
        try
        {
            aside = (byte*)NativeMemory.Alloc((nuint)region);
        }
        catch (OutOfMemoryException)
        {
            return false;
        }
        try
        {
            Buffer.MemoryCopy(start, aside, region, region);
            TensorView[] sources = new TensorView[3];
            for (int t = 0; t < 3; t++)
                sources[t] = new TensorView(views[t].Name, views[t].Type, views[t].Shape, aside + (views[t].Data - start), views[t].ByteLength);
            Interleave(file, triple, start, null, sources);
        }
        finally
        {
            NativeMemory.Free(aside);
        }
        return true;
    }

    /// <summary>
    /// False for a Q4_K or Q8_0 tensor with an infinite or NaN scale (Q4_K's d or dmin, Q8_0's d) in any block: the
    /// kernels of their layouts convert them from fp16 without that case
    /// (<see cref="Dot.Widen.FiniteHalvesOver2Pow56"/>), so such a tensor keeps the file's layout, whose kernels carry the
    /// inf/NaN into the results as the reference does. A scan of the tensor's block headers, in parallel slices.
    /// </summary>
    private static unsafe bool KernelReads(in TensorView view)
    {
        int scales = view.Type switch   // fp16 scales at the start of each block
        {
            GgmlType.Q4_K => 2,          // d, dmin
            GgmlType.Q8_0 => 1,          // d
            _ => 0,
        };
        if (scales == 0) return true;
        int blockBytes = GgmlTypeInfo.BlockBytes(view.Type);
        long blocks = view.ByteLength / blockBytes, sliceBlocks = 16384;
        nint start = (nint)view.Data;
        int nonFinite = 0;
        Parallel.For(0, (blocks + sliceBlocks - 1) / sliceBlocks, slice =>
        {
            byte* p = (byte*)start + slice * sliceBlocks * blockBytes;
            long count = Math.Min(sliceBlocks, blocks - slice * sliceBlocks);
            for (long b = 0; b < count; b++, p += blockBytes)
                for (int k = 0; k < scales; k++)
                    if ((((ushort*)p)[k] & 0x7c00) == 0x7c00)
                    {
                        Volatile.Write(ref nonFinite, 1);
                        return;
                    }
        });
        return nonFinite == 0;
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
