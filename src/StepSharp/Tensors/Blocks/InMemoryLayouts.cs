namespace StepSharp.Tensors.Blocks;

/// <summary>The kernels' in-memory layouts (<see cref="GgmlTypeInfo.IsInMemoryLayout"/>) and the file types they are made from.</summary>
internal static unsafe class InMemoryLayouts
{
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

    /// <summary>
    /// Rewrites <paramref name="blocks"/> consecutive 256-value blocks at <paramref name="p"/> from the file type of
    /// <paramref name="layout"/> into it, in place (for Q8_0 a block is eight Q8_0 blocks: the layout's block bytes).
    /// </summary>
    public static void FromFileLayout(GgmlType layout, byte* p, long blocks)
    {
        switch (layout)
        {
            case GgmlType.Q4_KInterleaved: Q4_KInterleavedBlock.FromQ4_K(p, blocks); break;
            case GgmlType.Q6_KInterleaved: Q6_KInterleavedBlock.FromQ6_K(p, blocks); break;
            case GgmlType.Q8_0Grouped: Q8_0GroupedBlock.FromQ8_0(p, blocks); break;
            default: throw new ArgumentException($"{layout} is not an in-memory layout", nameof(layout));
        }
    }

    /// <summary>One 256-value block of <paramref name="layout"/> back in its file type's layout (for Q8_0: eight blocks).</summary>
    public static void ToFileLayout(GgmlType layout, byte* src, byte* dst)
    {
        switch (layout)
        {
            case GgmlType.Q4_KInterleaved: Q4_KInterleavedBlock.ToQ4_K(src, dst); break;
            case GgmlType.Q6_KInterleaved: Q6_KInterleavedBlock.ToQ6_K(src, dst); break;
            case GgmlType.Q8_0Grouped: Q8_0GroupedBlock.ToQ8_0(src, dst); break;
            default: throw new ArgumentException($"{layout} is not an in-memory layout", nameof(layout));
        }
    }
}
