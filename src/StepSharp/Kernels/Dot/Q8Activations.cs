using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// Activations rounded to Q8_0 blocks (spec gguf-format.md §3.1) and the Q8_0 × Q8_0 integer dot product,
/// computed the way llama.cpp's CPU backend does so that logits match its Q8_0 runs: per 32 values
/// d = max|x| / 127 kept as fp16, q = round-half-even(x · 127/max|x|); the dot is
/// Σ_b (d_w·d_x) · Σ_i w_i·q_i with exact integer inner sums.
/// </summary>
internal static unsafe class Q8Activations
{
    private const int BlockValues = 32, BlockBytes = 34;

    /// <summary>Quantizes n values of x (a multiple of 32) into q[n] and d[n/32].</summary>
    public static void Quantize(float* x, int n, sbyte* q, float* d)
    {
        for (int b = 0; b < n / BlockValues; b++)
        {
            float* xb = x + b * BlockValues;
            float max = 0;
            for (int i = 0; i < BlockValues; i++) max = MathF.Max(max, MathF.Abs(xb[i]));
            d[b] = (float)(Half)(max / 127f);
            float id = max != 0 ? 127f / max : 0f;
            for (int i = 0; i < BlockValues; i++) q[b * BlockValues + i] = (sbyte)MathF.Round(xb[i] * id, MidpointRounding.ToEven);
        }
    }

    public static float Dot(Isa isa, byte* row, sbyte* q, float* d, int n) =>
        isa == Isa.Scalar ? Scalar(row, q, d, n) : Avx2(row, q, d, n);

    /// <summary>
    /// 32 int8 × int8 products per block with vpmaddubsw, which needs one unsigned operand: |w| times x with
    /// w's sign moved onto it. 256-bit even on AVX-512: AVX-512 has no vpsignb, and Zen 4 runs 512-bit
    /// integer ops as two 256-bit halves anyway. |w|·|x| ≤ 128·127, so the pairwise int16 sums cannot saturate.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2(byte* row, sbyte* q, float* d, int n)
    {
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        Vector256<short> ones = Vector256.Create((short)1);
        int blocks = n / BlockValues;
        for (int b = 0; b < blocks; b++)
        {
            byte* p = row + b * BlockBytes;
            Vector256<sbyte> w = Vector256.Load((sbyte*)p + 2);
            Vector256<sbyte> x = Vector256.Load(q + b * BlockValues);
            Vector256<short> pairs = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(System.Runtime.Intrinsics.X86.Avx2.Abs(w), System.Runtime.Intrinsics.X86.Avx2.Sign(x, w));
            Vector256<float> sums = Avx.ConvertToVector256Single(System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(pairs, ones));
            Vector256<float> scale = Vector256.Create(Widen.Half(p) * d[b]);
            if ((b & 1) == 0) acc0 = Vector256.FusedMultiplyAdd(scale, sums, acc0);
            else acc1 = Vector256.FusedMultiplyAdd(scale, sums, acc1);
        }
        return Vector256.Sum(acc0 + acc1);
    }

    /// <summary>The plain reference: exact integer sums per block, scaled by d_w·d_x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Scalar(byte* row, sbyte* q, float* d, int n)
    {
        float sum = 0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            int s = 0;
            for (int i = 0; i < BlockValues; i++) s += (sbyte)p[2 + i] * q[b * BlockValues + i];
            sum += Widen.Half(p) * d[b] * s;
        }
        return sum;
    }
}
