namespace StepSharp.Tensors;

/// <summary>
/// Block geometry of every ggml type (spec gguf-format.md §2, sizes checked against ggml_type_size /
/// ggml_blck_size). A row of ne0 elements is ne0 / BlockSize blocks; blocks never span rows.
/// </summary>
public static class GgmlTypeInfo
{
    /// <summary>True when the id is a type ggml still defines (removed ids and ids ≥ 43 are not, nor our in-memory layouts).</summary>
    public static bool IsKnown(GgmlType t) => Geometry(t).BlockSize != 0 && !IsInMemoryLayout(t);

    /// <summary>True for the layouts we make at load for our kernels (<see cref="GgmlType.Q4_KInterleaved"/>, <see cref="GgmlType.Q6_KInterleaved"/>, <see cref="GgmlType.Q8_0Grouped"/>): never in a file.</summary>
    public static bool IsInMemoryLayout(GgmlType t) => t is GgmlType.Q4_KInterleaved or GgmlType.Q6_KInterleaved or GgmlType.Q8_0Grouped;

    /// <summary>Elements per block (1 for the plain float and integer types).</summary>
    public static int BlockSize(GgmlType t)
    {
        int size = Geometry(t).BlockSize;
        return size != 0 ? size : throw Unknown(t);
    }

    /// <summary>Bytes per block.</summary>
    public static int BlockBytes(GgmlType t)
    {
        var (blockSize, bytes) = Geometry(t);
        return blockSize != 0 ? bytes : throw Unknown(t);
    }

    /// <summary>Bytes of one row of <paramref name="ne0"/> elements.</summary>
    /// <exception cref="ArgumentException">ne0 is negative or not a multiple of the block size.</exception>
    public static long RowBytes(GgmlType t, long ne0)
    {
        int blockSize = BlockSize(t);
        if (ne0 < 0 || ne0 % blockSize != 0)
            throw new ArgumentException($"a row of {t} must hold a multiple of {blockSize} elements, not {ne0}", nameof(ne0));
        return checked(ne0 / blockSize * BlockBytes(t));
    }

    /// <summary>True when <see cref="Dequantize.Row"/> supports the type.</summary>
    public static bool CanDequantize(GgmlType t) => t switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => true,
        GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 => true,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K => true,
        GgmlType.Q4_KInterleaved or GgmlType.Q6_KInterleaved or GgmlType.Q8_0Grouped => true,
        GgmlType.IQ4_NL or GgmlType.IQ4_XS or GgmlType.MXFP4 => true,
        _ => false,
    };

    /// <summary>True when <see cref="Quantize.Row"/> supports the type.</summary>
    public static bool CanQuantize(GgmlType t) => Quantize.Supports(t);

    private static ArgumentException Unknown(GgmlType t) =>
        new($"unknown ggml type id {(uint)t}", nameof(t));

    // (elements per block, bytes per block); (0, 0) = not a type (removed or never assigned).
    private static (int BlockSize, int Bytes) Geometry(GgmlType t) => t switch
    {
        GgmlType.F32 => (1, 4),
        GgmlType.F16 => (1, 2),
        GgmlType.Q4_0 => (32, 18),
        GgmlType.Q4_1 => (32, 20),
        GgmlType.Q5_0 => (32, 22),
        GgmlType.Q5_1 => (32, 24),
        GgmlType.Q8_0 => (32, 34),
        GgmlType.Q8_1 => (32, 36),
        GgmlType.Q2_K => (256, 84),
        GgmlType.Q3_K => (256, 110),
        GgmlType.Q4_K => (256, 144),
        GgmlType.Q4_KInterleaved => (256, 144),
        GgmlType.Q6_KInterleaved => (256, 210),
        GgmlType.Q8_0Grouped => (256, 272),
        GgmlType.Q5_K => (256, 176),
        GgmlType.Q6_K => (256, 210),
        GgmlType.Q8_K => (256, 292),
        GgmlType.IQ2_XXS => (256, 66),
        GgmlType.IQ2_XS => (256, 74),
        GgmlType.IQ3_XXS => (256, 98),
        GgmlType.IQ1_S => (256, 50),
        GgmlType.IQ4_NL => (32, 18),
        GgmlType.IQ3_S => (256, 110),
        GgmlType.IQ2_S => (256, 82),
        GgmlType.IQ4_XS => (256, 136),
        GgmlType.I8 => (1, 1),
        GgmlType.I16 => (1, 2),
        GgmlType.I32 => (1, 4),
        GgmlType.I64 => (1, 8),
        GgmlType.F64 => (1, 8),
        GgmlType.IQ1_M => (256, 56),
        GgmlType.BF16 => (1, 2),
        GgmlType.TQ1_0 => (256, 54),
        GgmlType.TQ2_0 => (256, 66),
        GgmlType.MXFP4 => (32, 17),
        GgmlType.NVFP4 => (64, 36),
        GgmlType.Q1_0 => (128, 18),
        GgmlType.Q2_0 => (64, 18),
        _ => (0, 0),
    };
}
