using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(row, x) for Q8_0 rows in the grouped layout (<see cref="Q8_0GroupedBlock"/>) against Q8_0 activations
/// (<see cref="Q8Activations"/>): the operations of <see cref="Q8Activations.Avx2Rows4"/> in the same order, so the
/// results are bit-identical, but each row's eight block scales come from one 16-byte load. In the file's layout
/// they are eight 2-byte loads 34 bytes apart packed by the scalar ALUs (32 scalar operations a row and eight
/// blocks), which with ~6 vector operations a block made the four-row kernel issue-bound rather than ALU-bound.
/// </summary>
internal static unsafe class Q8_0GroupedQ8Dot
{
    private const int GroupValues = 256, GroupBytes = 272;

    /// <summary>One row (its groups four apart, see <see cref="InMemoryLayouts"/>): each group turned back into Q8_0 blocks on the stack and run through <see cref="Q8Activations.Dot"/>; for tests and ranges that do not start on a row group.</summary>
    public static float Dot(Isa isa, byte* row, sbyte* q, float* d, int n)
    {
        byte* blocks = stackalloc byte[GroupBytes];
        float sum = 0;
        for (int g = 0; g < n / GroupValues; g++)
        {
            Q8_0GroupedBlock.ToQ8_0(row + g * 4 * GroupBytes, blocks);
            sum += Q8Activations.Dot(isa, blocks, q + g * GroupValues, d + 8 * g, GroupValues);
        }
        return sum;
    }

    /// <summary>The four rows of the group at <paramref name="group"/>, results to y[0..4).</summary>
    public static void Avx2Rows4(byte* group, sbyte* q, float* d, int n, float* y) => Avx2Groups(group, 0, 1, q, d, n, y);

    /// <summary>
    /// <see cref="Avx2Rows4"/> for <paramref name="rowGroups"/> consecutive groups of four rows <paramref name="rowGroupBytes"/>
    /// apart, results to y[0..4·rowGroups): one call for a range of rows (see <see cref="Q4_KInterleavedQ8Dot.Avx2Groups"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    public static void Avx2Groups(byte* first, long rowGroupBytes, int rowGroups, sbyte* q, float* d, int n, float* y)
    {
        float* scales = stackalloc float[32];
        for (int rg = 0; rg < rowGroups; rg++, first += rowGroupBytes, y += 4)
            Rows4(first, q, d, n, y, scales);
    }

    /// <summary>The four rows of the group at <paramref name="group"/>, with a 32-float scratch for their block scales.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows4(byte* group, sbyte* q, float* d, int n, float* y, float* scales)
    {
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int g = 0; g < n / GroupValues; g++)
        {
            byte* p0 = group + g * 4 * GroupBytes, p1 = p0 + GroupBytes, p2 = p1 + GroupBytes, p3 = p2 + GroupBytes;
            // The blocks' d (finite: see KernelWeightLayouts) times 2^-56, times dx·2^56: d·dx as the exact conversion gives it.
            Vector256<float> dx = Vector256.Load(d + 8 * g) * Vector256.Create(Widen.TwoPow56);
            (Widen.FiniteHalvesOver2Pow56(Vector128.Load((short*)p0)) * dx).Store(scales);
            (Widen.FiniteHalvesOver2Pow56(Vector128.Load((short*)p1)) * dx).Store(scales + 8);
            (Widen.FiniteHalvesOver2Pow56(Vector128.Load((short*)p2)) * dx).Store(scales + 16);
            (Widen.FiniteHalvesOver2Pow56(Vector128.Load((short*)p3)) * dx).Store(scales + 24);
            sbyte* w0 = (sbyte*)p0 + 16, w1 = (sbyte*)p1 + 16, w2 = (sbyte*)p2 + 16, w3 = (sbyte*)p3 + 16;
            sbyte* x = q + g * GroupValues;
            float* s = scales;
            // 8 blocks, each 4 × 32 weights; over the first 6 the 17 cache lines of the step two ahead (2176 bytes on)
            // are prefetched. Unlike the Q4_K kernels' own-step prefetch, Q8_0 consumes bytes fast enough to need the
            // distance: expert-sized chunks from DRAM (shares of the probe, alternating, 7 runs of 16 rounds) own step
            // 53–74 %, two steps ahead 62–70 %, the rows layout prefetching the next four rows 56–73 %. The same lines
            // eight steps ahead (8.7 KB, a range's later groups included) are also prefetched into L2: `quick chunks
            // Q8_0Grouped`, 3 alternating rounds, in order / shuffled, x1024 77,82,77 / 75,80,78 % → 86,87,86 / 87,88,88 %,
            // x256 (272 KB chunks) 73,78,74 / 69,70,67 → 85,83,83 / 76,74,74 % (16 steps ahead: a little more in order,
            // less shuffled). The Q4_K and Q6_K kernels, slower per byte, lost 5–30 points with it and do without.
            for (int k = 0; k < 8; k++, w0 += 32, w1 += 32, w2 += 32, w3 += 32, x += 32, s++)
            {
                Vector256<sbyte> xk = Vector256.Load(x);
                if (k < 6)
                {
                    Widen.PrefetchLines3<Widen.IntoL1>(p0 + 2 * 4 * GroupBytes + 192 * k);
                    Widen.PrefetchLines3<Widen.IntoL2>(p0 + 8 * 4 * GroupBytes + 192 * k);
                }
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Create(s[0]), Q8Activations.Products(w0, xk), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Create(s[8]), Q8Activations.Products(w1, xk), acc1);
                acc2 = Vector256.FusedMultiplyAdd(Vector256.Create(s[16]), Q8Activations.Products(w2, xk), acc2);
                acc3 = Vector256.FusedMultiplyAdd(Vector256.Create(s[24]), Q8Activations.Products(w3, xk), acc3);
            }
        }
        y[0] = Q8Activations.HorizontalSum(acc0);
        y[1] = Q8Activations.HorizontalSum(acc1);
        y[2] = Q8Activations.HorizontalSum(acc2);
        y[3] = Q8Activations.HorizontalSum(acc3);
    }
}
