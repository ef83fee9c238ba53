using StepSharp.Tensors.Blocks;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(row, x) for <see cref="Tensors.GgmlType.Q4_KInterleaved"/> rows against float activations: each block is
/// turned back into Q4_K on the stack (32 word operations) and run through <see cref="Q4_KDot"/>. Only the float
/// activation mode uses it; decode's default is the int8 kernel <see cref="Q4_KInterleavedQ8Dot"/> and prefill
/// decodes panels (<see cref="WeightPanel"/>).
/// </summary>
internal static unsafe class Q4_KInterleavedDot
{
    public static float Dot(Isa isa, byte* row, float* x, float* xSums, int n)
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
}
