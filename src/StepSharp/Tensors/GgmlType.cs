namespace StepSharp.Tensors;

/// <summary>
/// ggml tensor type ids as stored in a GGUF tensor-info record (spec gguf-format.md §2).
/// Ids 4, 5, 31-33 and 36-38 were removed from ggml and are rejected by the loader.
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
    NVFP4 = 40,
    Q1_0 = 41,
    Q2_0 = 42,

    /// <summary>
    /// Not a ggml type: Q4_K blocks with their quants rearranged for the integer decode kernels
    /// (<see cref="Blocks.Q4_KInterleavedBlock"/>), made at load in memory that holds a private copy of a file.
    /// Never read from or written to a file (<see cref="GgmlTypeInfo.IsKnown"/> is false for it).
    /// </summary>
    Q4_KInterleaved = 1000 + Q4_K,

    /// <summary>Not a ggml type: Q6_K rearranged like <see cref="Q4_KInterleaved"/> (<see cref="Blocks.Q6_KInterleavedBlock"/>).</summary>
    Q6_KInterleaved = 1000 + Q6_K,

    /// <summary>Not a ggml type: Q8_0 blocks in groups of eight with their scales in front (<see cref="Blocks.Q8_0GroupedBlock"/>).</summary>
    Q8_0Grouped = 1000 + Q8_0,
}
