using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// Activations rounded to Q8_K blocks of 256 (spec gguf-format.md §4 "Q8_K activations"), the vec_dot_type
/// llama.cpp's CPU backend uses for every K-quant: max = the signed value with the largest |x|,
/// iscale = −127/max, q = min(127, rne(iscale·x)), d = 1/iscale kept as f32 (negative when max &gt; 0), and
/// bsums = the sum of each 16 q. One scale per 256 values is what lets the K-quant kernels
/// (<see cref="Q4_KQ8Dot"/>, <see cref="Q6_KQ8Dot"/>) apply their sub-block scales in integer arithmetic and
/// convert to float once per super-block.
/// </summary>
internal static unsafe class Q8KActivations
{
    public const int BlockValues = 256, SumsPerBlock = 16;

    /// <summary>Quantizes n values of x (a multiple of 256) into q[n], d[n/256] and bsums[n/16].</summary>
    public static void Quantize(float* x, int n, sbyte* q, float* d, short* bsums)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            QuantizeVector256(x, n, q, d, bsums);
            return;
        }
        QuantizeScalar(x, n, q, d, bsums);
    }

    /// <summary>
    /// Same arithmetic as <see cref="QuantizeScalar"/> lane-wise: the first value of largest magnitude is found
    /// exactly (max of |x|, then the first lane equal to it), the multiply and round-half-even are single IEEE
    /// operations, so the two agree bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QuantizeVector256(float* x, int n, sbyte* q, float* d, short* bsums)
    {
        for (int b = 0; b < n / BlockValues; b++)
        {
            float* xb = x + b * BlockValues;
            Vector256<float> m = Vector256<float>.Zero;
            for (int i = 0; i < BlockValues; i += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(xb + i)));
            float amax = 0;
            for (int i = 0; i < 8; i++) amax = MathF.Max(amax, m.GetElement(i));
            sbyte* qb = q + b * BlockValues;
            short* sb = bsums + b * SumsPerBlock;
            if (amax == 0)
            {
                d[b] = 0;
                new Span<sbyte>(qb, BlockValues).Clear();
                new Span<short>(sb, SumsPerBlock).Clear();
                continue;
            }
            float max = 0;
            var target = Vector256.Create(amax);
            for (int i = 0; i < BlockValues; i += 8)
            {
                uint hits = Vector256.Equals(Vector256.Abs(Vector256.Load(xb + i)), target).ExtractMostSignificantBits();
                if (hits != 0)
                {
                    max = xb[i + System.Numerics.BitOperations.TrailingZeroCount(hits)];
                    break;
                }
            }
            float iscale = -127f / max;
            var vs = Vector256.Create(iscale);
            var cap = Vector256.Create(127);
            for (int i = 0; i < BlockValues; i += 32)
            {
                Vector256<int> i0 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + i) * vs)), cap);
                Vector256<int> i1 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + i + 8) * vs)), cap);
                Vector256<int> i2 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + i + 16) * vs)), cap);
                Vector256<int> i3 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + i + 24) * vs)), cap);
                sb[i / 16] = (short)Vector256.Sum(i0 + i1);
                sb[i / 16 + 1] = (short)Vector256.Sum(i2 + i3);
                // −127 ≤ q ≤ 127, so narrowing int32 → int16 → int8 is exact.
                Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3)).Store(qb + i);
            }
            d[b] = 1 / iscale;
        }
    }

    /// <summary>The plain reference of <see cref="Quantize"/>: quantize_row_q8_K_ref, step by step.</summary>
    internal static void QuantizeScalar(float* x, int n, sbyte* q, float* d, short* bsums)
    {
        for (int b = 0; b < n / BlockValues; b++)
        {
            float* xb = x + b * BlockValues;
            float amax = 0, max = 0;
            for (int i = 0; i < BlockValues; i++)
            {
                float ax = MathF.Abs(xb[i]);
                if (ax > amax) { amax = ax; max = xb[i]; }
            }
            sbyte* qb = q + b * BlockValues;
            short* sb = bsums + b * SumsPerBlock;
            if (amax == 0)
            {
                d[b] = 0;
                for (int i = 0; i < BlockValues; i++) qb[i] = 0;
                for (int k = 0; k < SumsPerBlock; k++) sb[k] = 0;
                continue;
            }
            float iscale = -127f / max;
            for (int i = 0; i < BlockValues; i++) qb[i] = (sbyte)Math.Min(127, (int)MathF.Round(iscale * xb[i], MidpointRounding.ToEven));
            for (int k = 0; k < SumsPerBlock; k++)
            {
                int s = 0;
                for (int i = 0; i < 16; i++) s += qb[16 * k + i];
                sb[k] = (short)s;
            }
            d[b] = 1 / iscale;
        }
    }
}
