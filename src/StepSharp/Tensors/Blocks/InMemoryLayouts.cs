namespace StepSharp.Tensors.Blocks;

/// <summary>
/// The kernels' in-memory layouts (<see cref="GgmlTypeInfo.IsInMemoryLayout"/>) and the file types they are made from.
/// Besides rearranging each block, a layout stores a matrix's rows in groups of four, block by block: super-block b of
/// rows 4g..4g+3 lies at (4g)·rowBytes + (4b + r)·blockBytes. The four-row decode kernels then read one sequential
/// stream instead of four rows' streams, which this machine's prefetchers serve far better (see
/// <c>Kernels/Dot/Q4_KInterleavedQ8Dot</c>). A group starts where its first row would in the file, so a
/// matrix (or an expert's slice of one) of a multiple of four rows keeps its offset and size.
/// </summary>
internal static unsafe class InMemoryLayouts
{
    /// <summary>Rows stored together, block by block.</summary>
    public const int GroupRows = 4;

    /// <summary>The ggml type <paramref name="layout"/> is a rearrangement of.</summary>
    public static GgmlType FileType(GgmlType layout) => layout switch
    {
        GgmlType.Q4_KInterleaved => GgmlType.Q4_K,
        GgmlType.Q6_KInterleaved => GgmlType.Q6_K,
        GgmlType.Q8_0Grouped => GgmlType.Q8_0,
        _ => throw new ArgumentException($"{layout} is not an in-memory layout", nameof(layout)),
    };

    /// <summary>Bytes of one block of <paramref name="layout"/> (256 values each): the most <see cref="ToFileLayout"/> writes.</summary>
    public const int MaxBlockBytes = Q8_0GroupedBlock.Bytes;

    /// <summary>Bytes from one block of a row to its next: the four rows of a group take turns.</summary>
    public static long BlockStride(GgmlType layout) => GroupRows * GgmlTypeInfo.BlockBytes(layout);

    /// <summary>Where row <paramref name="row"/> of a matrix of <paramref name="type"/> starts: its first block in a kernel layout, else row·rowBytes.</summary>
    public static long RowStart(GgmlType type, long row, long rowBytes) =>
        GgmlTypeInfo.IsInMemoryLayout(type) ? RowOffset(type, row, rowBytes) : row * rowBytes;

    /// <summary>Where row <paramref name="row"/>'s first block lies, from the start of its matrix.</summary>
    public static long RowOffset(GgmlType layout, long row, long rowBytes) =>
        (row & ~(long)(GroupRows - 1)) * rowBytes + (row & (GroupRows - 1)) * GgmlTypeInfo.BlockBytes(layout);

    /// <summary>
    /// Rewrites <paramref name="rows"/> rows (a multiple of <see cref="GroupRows"/>) of <paramref name="rowBytes"/> bytes
    /// at <paramref name="p"/> from the file type of <paramref name="layout"/> into it, in place: each block, then the
    /// order of the blocks within each group of rows (and for Q4_K the headers of each group's four blocks transposed,
    /// see <see cref="Q4_KInterleavedBlock"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The row count is not a multiple of four.</exception>
    public static void FromFileLayout(GgmlType layout, byte* p, long rows, long rowBytes)
    {
        if (rows % GroupRows != 0) throw new ArgumentException($"{layout} stores rows in groups of {GroupRows}; {rows} rows are not", nameof(rows));
        int blockBytes = GgmlTypeInfo.BlockBytes(layout);
        BlocksFromFileLayout(layout, p, rows * rowBytes / blockBytes);
        byte[] group = new byte[GroupRows * rowBytes];
        fixed (byte* scratch = group)
            for (long g = 0; g < rows; g += GroupRows)
            {
                byte* first = p + g * rowBytes;
                Buffer.MemoryCopy(first, scratch, group.Length, group.Length);
                long blocks = rowBytes / blockBytes;
                for (long b = 0; b < blocks; b++)
                {
                    for (int r = 0; r < GroupRows; r++)
                        Buffer.MemoryCopy(scratch + r * rowBytes + b * blockBytes, first + (GroupRows * b + r) * blockBytes, blockBytes, blockBytes);
                    if (layout == GgmlType.Q4_KInterleaved) Q4_KInterleavedBlock.TransposeGroupHeaders(first + GroupRows * b * blockBytes);
                }
            }
    }

    /// <summary>
    /// Rewrites <paramref name="blocks"/> consecutive 256-value blocks at <paramref name="p"/> from the file type of
    /// <paramref name="layout"/> into it, in place, without moving them (for Q8_0 a block is eight Q8_0 blocks: the layout's block bytes).
    /// </summary>
    public static void BlocksFromFileLayout(GgmlType layout, byte* p, long blocks)
    {
        switch (layout)
        {
            case GgmlType.Q4_KInterleaved: Q4_KInterleavedBlock.FromQ4_K(p, blocks); break;
            case GgmlType.Q6_KInterleaved: Q6_KInterleavedBlock.FromQ6_K(p, blocks); break;
            case GgmlType.Q8_0Grouped: Q8_0GroupedBlock.FromQ8_0(p, blocks); break;
            default: throw new ArgumentException($"{layout} is not an in-memory layout", nameof(layout));
        }
    }

    /// <summary>One 256-value block of <paramref name="layout"/>, of row <paramref name="rowInGroup"/> of its group (<see cref="RowInGroup"/>), back in its file type's layout (for Q8_0: eight blocks).</summary>
    public static void ToFileLayout(GgmlType layout, byte* src, int rowInGroup, byte* dst)
    {
        switch (layout)
        {
            case GgmlType.Q4_KInterleaved: Q4_KInterleavedBlock.ToQ4_K(src, rowInGroup, dst); break;
            case GgmlType.Q6_KInterleaved: Q6_KInterleavedBlock.ToQ6_K(src, dst); break;
            case GgmlType.Q8_0Grouped: Q8_0GroupedBlock.ToQ8_0(src, dst); break;
            default: throw new ArgumentException($"{layout} is not an in-memory layout", nameof(layout));
        }
    }

    /// <summary>
    /// One row of a matrix in <paramref name="layout"/> (<paramref name="row"/> points at its first block, see
    /// <see cref="RowOffset"/>; <paramref name="rowInGroup"/> its place in its group) back in the file type's contiguous
    /// layout: <paramref name="blocks"/> blocks to <paramref name="dst"/>.
    /// </summary>
    public static void RowToFileLayout(GgmlType layout, byte* row, int rowInGroup, long blocks, byte* dst)
    {
        long stride = BlockStride(layout);
        int blockBytes = GgmlTypeInfo.BlockBytes(layout);
        for (long b = 0; b < blocks; b++) ToFileLayout(layout, row + b * stride, rowInGroup, dst + b * blockBytes);
    }

    /// <summary>A row's place in its group of <see cref="GroupRows"/>, which the block readers of a layout whose blocks share their group's headers (<see cref="Q4_KInterleavedBlock"/>) need.</summary>
    public static int RowInGroup(long row) => (int)(row & (GroupRows - 1));
}
