using StepSharp.Tensors.Blocks;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(row, x) for the interleaved K-quant layouts against float activations: each block is turned back into its
/// file layout on the stack and run through that type's kernel (<see cref="Q4_KDot"/>, <see cref="Q6_KDot"/>). Only
/// the float activation mode uses these; decode's default is the int8 kernels (<see cref="Q4_KInterleavedQ8Dot"/>,
/// <see cref="Q6_KInterleavedQ8Dot"/>) and prefill decodes panels (<see cref="WeightPanel"/>).
/// </summary>
internal static unsafe class InterleavedDot
{
    public static float Q4_K(Isa isa, byte* row, float* x, float* xSums, int n)
    {
        byte* block = stackalloc byte[Q4_KInterleavedBlock.Bytes];
        float sum = 0;
        for (int b = 0; b < n / Q4_KInterleavedBlock.Values; b++)
        {
            Q4_KInterleavedBlock.ToQ4_K(row + b * Q4_KInterleavedBlock.Bytes, block);
            sum += Q4_KDot.Dot(isa, block, x + 256 * b, xSums == null ? null : xSums + 8 * b, 256);
        }
        return sum;
    }

    public static float Q6_K(Isa isa, byte* row, float* x, float* xSums, int n)
    {
        byte* block = stackalloc byte[Q6_KInterleavedBlock.Bytes];
        float sum = 0;
        for (int b = 0; b < n / Q6_KInterleavedBlock.Values; b++)
        {
            Q6_KInterleavedBlock.ToQ6_K(row + b * Q6_KInterleavedBlock.Bytes, block);
            sum += Q6_KDot.Dot(isa, block, x + 256 * b, null, 256);
        }
        return sum;
    }
}
