using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using StepSharp.Kernels.Dot;

namespace StepSharp.Kernels;

/// <summary>
/// The register-blocked core of prefill: <c>y[t, r] += dot(w_r, x_t)</c> for a tile of weight rows × tokens
/// over one K panel. Every loaded weight vector is used for all tokens of the tile and every loaded x
/// vector for all its rows, so a 4 × 4 tile does 16 FMAs per 8 loads and is bound by the FMA units, not
/// by loads. 4 × 4 with AVX-512 uses 16 accumulators + 8 operands of the 32 zmm registers; AVX2 has only 16
/// ymm registers, so its tile is 4 rows × 2 tokens (8 accumulators).
/// </summary>
internal static unsafe class MatMulTile
{
    /// <summary>Tile height (weight rows) for every tier.</summary>
    public const int Rows = 4;

    /// <summary>Tile width (tokens) of <paramref name="isa"/>'s micro-kernel; 1 means no micro-kernel (scalar tier).</summary>
    public static int Tokens(Isa isa) => isa switch { Isa.Avx512 => 4, Isa.Avx2 => 2, _ => 1 };

    /// <summary>
    /// y[t·yStride + r] += Σ_k w[r·wStride + k]·x[t·xStride + k] for r &lt; 4, t &lt; <see cref="Tokens"/>, k &lt; len.
    /// </summary>
    public static void Accumulate(Isa isa, float* w, long wStride, float* x, long xStride, int len, float* y, long yStride)
    {
        if (isa == Isa.Avx512) Avx512(w, wStride, x, xStride, len, y, yStride);
        else if (isa == Isa.Avx2) Avx2(w, wStride, x, xStride, len, y, yStride);
        else y[0] += FloatDot.Scalar<FloatDot.F32Loader>((byte*)w, x, len);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512(float* w, long wStride, float* x, long xStride, int len, float* y, long yStride)
    {
        float* w0 = w, w1 = w + wStride, w2 = w + 2 * wStride, w3 = w + 3 * wStride;
        float* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        int k = 0;
        for (; k + 16 <= len; k += 16)
        {
            Vector512<float> a0 = Vector512.Load(w0 + k), a1 = Vector512.Load(w1 + k), a2 = Vector512.Load(w2 + k), a3 = Vector512.Load(w3 + k);
            Vector512<float> b = Vector512.Load(x0 + k);
            c00 = Vector512.FusedMultiplyAdd(a0, b, c00); c10 = Vector512.FusedMultiplyAdd(a1, b, c10);
            c20 = Vector512.FusedMultiplyAdd(a2, b, c20); c30 = Vector512.FusedMultiplyAdd(a3, b, c30);
            b = Vector512.Load(x1 + k);
            c01 = Vector512.FusedMultiplyAdd(a0, b, c01); c11 = Vector512.FusedMultiplyAdd(a1, b, c11);
            c21 = Vector512.FusedMultiplyAdd(a2, b, c21); c31 = Vector512.FusedMultiplyAdd(a3, b, c31);
            b = Vector512.Load(x2 + k);
            c02 = Vector512.FusedMultiplyAdd(a0, b, c02); c12 = Vector512.FusedMultiplyAdd(a1, b, c12);
            c22 = Vector512.FusedMultiplyAdd(a2, b, c22); c32 = Vector512.FusedMultiplyAdd(a3, b, c32);
            b = Vector512.Load(x3 + k);
            c03 = Vector512.FusedMultiplyAdd(a0, b, c03); c13 = Vector512.FusedMultiplyAdd(a1, b, c13);
            c23 = Vector512.FusedMultiplyAdd(a2, b, c23); c33 = Vector512.FusedMultiplyAdd(a3, b, c33);
        }
        if (k == len)
        {
            // One transposed reduction per token (4 rows → 4 lanes) instead of 16 separate horizontal sums, which
            // cost as much as a quarter of the FMAs when K is short (an expert's down-projection has K = ff = 256).
            AddSums4(c00, c10, c20, c30, y);
            AddSums4(c01, c11, c21, c31, y + yStride);
            AddSums4(c02, c12, c22, c32, y + 2 * yStride);
            AddSums4(c03, c13, c23, c33, y + 3 * yStride);
            return;
        }
        y[0] += Vector512.Sum(c00) + Tail(w0, x0, k, len); y[1] += Vector512.Sum(c10) + Tail(w1, x0, k, len);
        y[2] += Vector512.Sum(c20) + Tail(w2, x0, k, len); y[3] += Vector512.Sum(c30) + Tail(w3, x0, k, len);
        float* y1 = y + yStride;
        y1[0] += Vector512.Sum(c01) + Tail(w0, x1, k, len); y1[1] += Vector512.Sum(c11) + Tail(w1, x1, k, len);
        y1[2] += Vector512.Sum(c21) + Tail(w2, x1, k, len); y1[3] += Vector512.Sum(c31) + Tail(w3, x1, k, len);
        float* y2 = y + 2 * yStride;
        y2[0] += Vector512.Sum(c02) + Tail(w0, x2, k, len); y2[1] += Vector512.Sum(c12) + Tail(w1, x2, k, len);
        y2[2] += Vector512.Sum(c22) + Tail(w2, x2, k, len); y2[3] += Vector512.Sum(c32) + Tail(w3, x2, k, len);
        float* y3 = y + 3 * yStride;
        y3[0] += Vector512.Sum(c03) + Tail(w0, x3, k, len); y3[1] += Vector512.Sum(c13) + Tail(w1, x3, k, len);
        y3[2] += Vector512.Sum(c23) + Tail(w2, x3, k, len); y3[3] += Vector512.Sum(c33) + Tail(w3, x3, k, len);
    }

    /// <summary>y[0..4) += the totals of four 16-lane accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddSums4(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, float* y) =>
        (Vector128.Load(y) + Widen.Sums4(a0.GetLower() + a0.GetUpper(), a1.GetLower() + a1.GetUpper(), a2.GetLower() + a2.GetUpper(), a3.GetLower() + a3.GetUpper())).Store(y);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2(float* w, long wStride, float* x, long xStride, int len, float* y, long yStride)
    {
        float* w0 = w, w1 = w + wStride, w2 = w + 2 * wStride, w3 = w + 3 * wStride;
        float* x0 = x, x1 = x + xStride;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        int k = 0;
        for (; k + 8 <= len; k += 8)
        {
            Vector256<float> b0 = Vector256.Load(x0 + k), b1 = Vector256.Load(x1 + k);
            Vector256<float> a = Vector256.Load(w0 + k);
            c00 = Vector256.FusedMultiplyAdd(a, b0, c00); c01 = Vector256.FusedMultiplyAdd(a, b1, c01);
            a = Vector256.Load(w1 + k);
            c10 = Vector256.FusedMultiplyAdd(a, b0, c10); c11 = Vector256.FusedMultiplyAdd(a, b1, c11);
            a = Vector256.Load(w2 + k);
            c20 = Vector256.FusedMultiplyAdd(a, b0, c20); c21 = Vector256.FusedMultiplyAdd(a, b1, c21);
            a = Vector256.Load(w3 + k);
            c30 = Vector256.FusedMultiplyAdd(a, b0, c30); c31 = Vector256.FusedMultiplyAdd(a, b1, c31);
        }
        y[0] += Vector256.Sum(c00) + Tail(w0, x0, k, len); y[1] += Vector256.Sum(c10) + Tail(w1, x0, k, len);
        y[2] += Vector256.Sum(c20) + Tail(w2, x0, k, len); y[3] += Vector256.Sum(c30) + Tail(w3, x0, k, len);
        float* y1 = y + yStride;
        y1[0] += Vector256.Sum(c01) + Tail(w0, x1, k, len); y1[1] += Vector256.Sum(c11) + Tail(w1, x1, k, len);
        y1[2] += Vector256.Sum(c21) + Tail(w2, x1, k, len); y1[3] += Vector256.Sum(c31) + Tail(w3, x1, k, len);
    }

    /// <summary>The last len % vector-width products (only F32 rows of odd length have any).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail(float* w, float* x, int k, int len)
    {
        float s = 0;
        for (; k < len; k++) s += w[k] * x[k];
        return s;
    }
}
