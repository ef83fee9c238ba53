using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using StepSharp.Kernels.Dot;
using StepSharp.Tensors;

namespace StepSharp.Kernels;

/// <summary>
/// Decodes a K-panel (a block-aligned slice of a few weight rows) into a small f32 tile that stays in L1
/// while prefill applies it to every token. This is the only place weights are decoded to memory, one
/// panel of ≤ 4 × <see cref="MatMul.PanelValues"/> values at a time, never a whole row. Values are exactly
/// the reference dequantization's (Dequantize.Row), so prefill reproduces "dequantize then F32" up to the
/// order of additions.
/// </summary>
internal static unsafe class WeightPanel
{
    /// <summary>Decodes values [k0, k0 + len) of a row (both multiples of the type's block size) into <paramref name="dst"/>.</summary>
    public static void Decode(GgmlType type, byte* row, int k0, int len, float* dst, Isa isa)
    {
        int blockValues = GgmlTypeInfo.BlockSize(type);
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        byte* src = row + (long)(k0 / blockValues) * blockBytes;
        if (type == GgmlType.Q8_0 && isa == Isa.Avx512)
        {
            DecodeQ8_0Avx512(src, len / 32, dst);
            return;
        }
        Dequantize.Row(type, new ReadOnlySpan<byte>(src, len / blockValues * blockBytes), new Span<float>(dst, len));
    }

    /// <summary>Q8_0 (spec §3.1): q·d with the same single rounding as the reference's (sbyte)q * d.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeQ8_0Avx512(byte* src, int blocks, float* dst)
    {
        for (int b = 0; b < blocks; b++, src += 34, dst += 32)
        {
            Vector512<float> d = Vector512.Create(Widen.Half(src));
            (Widen.SBytes512(Vector128.Load((sbyte*)src + 2)) * d).Store(dst);
            (Widen.SBytes512(Vector128.Load((sbyte*)src + 18)) * d).Store(dst + 16);
        }
    }
}
