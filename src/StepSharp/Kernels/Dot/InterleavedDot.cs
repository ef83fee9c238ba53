using StepSharp.Tensors;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(row, x) for the kernels' in-memory layouts (<c>row</c> at the row's first block, the others
/// <see cref="InMemoryLayouts.BlockStride"/> apart, <c>rowInGroup</c> its place in its group) against float
/// activations: each 256 values are turned back into the file layout on the stack and run through that type's kernel
/// (<see cref="Q4_KDot"/>, <see cref="Q6_KDot"/>, <see cref="Q8_0Dot"/>). Only the float activation mode uses these;
/// decode's default is the int8 kernels
/// (<see cref="Q4_KInterleavedQ8Dot"/>, <see cref="Q6_KInterleavedQ8Dot"/>, <see cref="Q8_0GroupedQ8Dot"/>) and
/// prefill decodes panels (<see cref="WeightPanel"/>).
/// </summary>
internal static unsafe class InterleavedDot
{
    public static float Compute(GgmlType layout, Isa isa, byte* row, int rowInGroup, float* x, float* xSums, int n)
    {
        var kernel = RowDot.Kernel(InMemoryLayouts.FileType(layout));
        long stride = InMemoryLayouts.BlockStride(layout);   // a row's blocks take turns with its group's three others
        byte* block = stackalloc byte[InMemoryLayouts.MaxBlockBytes];
        float sum = 0;
        for (int b = 0; b < n / 256; b++)
        {
            InMemoryLayouts.ToFileLayout(layout, row + b * stride, rowInGroup, block);
            // Only Q4_K's kernel reads the sums of each 32 values of x.
            sum += kernel(isa, block, x + 256 * b, xSums == null ? null : xSums + 8 * b, 256);
        }
        return sum;
    }
}
