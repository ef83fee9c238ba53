using StepSharp.Kernels.Dot;
using StepSharp.Tensors;

namespace StepSharp.Kernels;

/// <summary>
/// dot(weight row, x) for every weight type the models use, with the dequantization fused into the dot
/// product: no decoded copy of the row is ever written. Each type's kernel (Kernels/Dot/*) has an AVX-512,
/// an AVX2 and a plain scalar tier; the scalar tier is the readable reference the others are tested against.
/// </summary>
public static unsafe class RowDot
{
    /// <summary>True when <paramref name="type"/> has a fused kernel.</summary>
    public static bool Supports(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => true,
        GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q5_0 => true,
        GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => true,
        GgmlType.Q4_KInterleaved or GgmlType.Q6_KInterleaved or GgmlType.Q8_0Grouped => true,
        _ => false,
    };

    /// <summary>dot(row, x) where <paramref name="row"/> holds x.Length values of <paramref name="type"/>, on <see cref="KernelIsa.Current"/>.</summary>
    public static float Compute(GgmlType type, ReadOnlySpan<byte> row, ReadOnlySpan<float> x) => Compute(type, row, x, KernelIsa.Current);

    /// <summary>dot(row, x) on a given instruction-set tier (tests and benchmarks pin the tier this way).</summary>
    /// <exception cref="ArgumentException">Unsupported type or sizes that do not match.</exception>
    /// <exception cref="PlatformNotSupportedException">The machine cannot run <paramref name="isa"/>.</exception>
    public static float Compute(GgmlType type, ReadOnlySpan<byte> row, ReadOnlySpan<float> x, Isa isa)
    {
        if (!Supports(type)) throw new ArgumentException($"no fused dot-product kernel for {type} rows", nameof(type));
        if (GgmlTypeInfo.IsInMemoryLayout(type))
            throw new ArgumentException($"{type} rows are stored four together, not as one span; use MatMul.RowDot on the tensor", nameof(type));
        if (!KernelIsa.IsSupported(isa)) throw new PlatformNotSupportedException($"this machine supports kernels up to {KernelIsa.Best}, not {isa}");
        if (x.Length % GgmlTypeInfo.BlockSize(type) != 0)
            throw new ArgumentException($"{x.Length} values are not a whole number of {type} blocks of {GgmlTypeInfo.BlockSize(type)}", nameof(x));
        long expected = GgmlTypeInfo.RowBytes(type, x.Length);
        if (row.Length != expected)
            throw new ArgumentException($"a {type} row of {x.Length} values takes {expected} bytes, got {row.Length}", nameof(row));
        fixed (byte* r = row)
            return Compute(type, r, x, isa, 0);
    }

    /// <summary>
    /// dot(row, x) for a row at <paramref name="row"/> (in a kernel layout: its first block, and
    /// <paramref name="rowInGroup"/> its place in its group, see <see cref="Tensors.Blocks.InMemoryLayouts"/>) of
    /// x.Length values; the caller has checked type, tier and sizes.
    /// </summary>
    internal static float Compute(GgmlType type, byte* row, ReadOnlySpan<float> x, Isa isa, int rowInGroup)
    {
        fixed (float* px = x)
        {
            bool layout = GgmlTypeInfo.IsInMemoryLayout(type);
            if (!NeedsGroupSums(type))
                return layout ? InterleavedDot.Compute(type, isa, row, rowInGroup, px, null, x.Length) : Kernel(type)(isa, row, px, null, x.Length);
            float[]? rented = null;
            int groups = x.Length / 32;
            Span<float> sums = groups <= 2048 ? stackalloc float[groups] : (rented = System.Buffers.ArrayPool<float>.Shared.Rent(groups));
            try
            {
                fixed (float* ps = sums)
                {
                    Widen.GroupSums32(px, x.Length, ps);
                    return layout ? InterleavedDot.Compute(type, isa, row, rowInGroup, px, ps, x.Length) : Kernel(type)(isa, row, px, ps, x.Length);
                }
            }
            finally
            {
                if (rented is not null) System.Buffers.ArrayPool<float>.Shared.Return(rented);
            }
        }
    }

    /// <summary>True for the K-quants with mins, whose kernels take the sums of each 32 values of x (see Widen.GroupSums32).</summary>
    internal static bool NeedsGroupSums(GgmlType type) => type is GgmlType.Q4_K or GgmlType.Q4_KInterleaved or GgmlType.Q5_K;

    /// <summary>
    /// The kernel for <paramref name="type"/>: (tier, row, x, sums of each 32 values of x or null when
    /// <see cref="NeedsGroupSums"/> is false, values) → dot. No checks: callers validate once per matrix. The kernel
    /// layouts are not here: their rows also need their place in a group (<see cref="InterleavedDot.Compute"/>).
    /// </summary>
    internal static delegate*<Isa, byte*, float*, float*, int, float> Kernel(GgmlType type) => type switch
    {
        GgmlType.F32 => &FloatDot.F32,
        GgmlType.F16 => &FloatDot.F16,
        GgmlType.BF16 => &FloatDot.BF16,
        GgmlType.Q8_0 => &Q8_0Dot.Dot,
        GgmlType.Q4_0 => &Q4_0Dot.Dot,
        GgmlType.Q5_0 => &Q5_0Dot.Dot,
        GgmlType.Q4_K => &Q4_KDot.Dot,
        GgmlType.Q5_K => &Q5_KDot.Dot,
        GgmlType.Q6_K => &Q6_KDot.Dot,
        _ => throw new ArgumentException($"no fused dot-product kernel for {type} rows", nameof(type)),
    };
}
