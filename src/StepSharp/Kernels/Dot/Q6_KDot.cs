using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(Q6_K row, x), dequantization fused (spec gguf-format.md §3.2, worked example §3.4: per 128-value
/// half h and 32-value group g, low4 comes from ql[64h + 32(g&amp;1) + l] (low nibble for g &lt; 2, high
/// otherwise), high2 = (qh[32h + l] >> 2g) &amp; 3, q = (low4 | high2 &lt;&lt; 4) − 32, and every 16 values share
/// one int8 scale). The 32 signed q of a group are assembled in byte lanes, then widened and dotted.
/// </summary>
internal static unsafe class Q6_KDot
{
    private const int BlockValues = 256, BlockBytes = 210;

    public static float Dot(Isa isa, byte* row, float* x, float* xSums, int n) => isa switch
    {
        Isa.Avx512 => Avx512(row, x, n),
        Isa.Avx2 => Avx2(row, x, n),
        _ => Scalar(row, x, n),
    };

    /// <summary>The 32 values q − 32 of group <paramref name="g"/> of half <paramref name="h"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Group(byte* p, int h, int g)
    {
        Vector256<byte> ql = Vector256.Load(p + 64 * h + 32 * (g & 1));
        Vector256<byte> low4 = g < 2 ? ql & Vector256.Create((byte)15) : Vector256.ShiftRightLogical(ql, 4);
        Vector256<byte> high2 = Vector256.ShiftRightLogical(Vector256.Load(p + 128 + 32 * h), 2 * g) & Vector256.Create((byte)3);
        return ((low4 | Vector256.ShiftLeft(high2, 4)) - Vector256.Create((byte)32)).AsSByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx512(byte* row, float* x, int n)
    {
        Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            sbyte* scales = (sbyte*)(p + 192);
            float d = Widen.Half(p + 208);
            for (int h = 0; h < 2; h++)
            {
                for (int g = 0; g < 4; g++)
                {
                    Vector256<sbyte> q = Group(p, h, g);
                    float* xg = x + b * BlockValues + 128 * h + 32 * g;
                    int s = 8 * h + 2 * g;
                    acc0 = Vector512.FusedMultiplyAdd(Vector512.Create(d * scales[s]), Widen.SBytes512(q.GetLower()) * Vector512.Load(xg), acc0);
                    acc1 = Vector512.FusedMultiplyAdd(Vector512.Create(d * scales[s + 1]), Widen.SBytes512(q.GetUpper()) * Vector512.Load(xg + 16), acc1);
                }
            }
        }
        return Vector512.Sum(acc0 + acc1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2(byte* row, float* x, int n)
    {
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            sbyte* scales = (sbyte*)(p + 192);
            float d = Widen.Half(p + 208);
            for (int h = 0; h < 2; h++)
            {
                for (int g = 0; g < 4; g++)
                {
                    Vector256<sbyte> q = Group(p, h, g);
                    float* xg = x + b * BlockValues + 128 * h + 32 * g;
                    int s = 8 * h + 2 * g;
                    Vector128<sbyte> lo = q.GetLower(), hi = q.GetUpper();
                    Vector256<float> s0 = Vector256.FusedMultiplyAdd(Widen.SBytes256(Widen.High8(lo)), Vector256.Load(xg + 8), Widen.SBytes256(lo) * Vector256.Load(xg));
                    Vector256<float> s1 = Vector256.FusedMultiplyAdd(Widen.SBytes256(Widen.High8(hi)), Vector256.Load(xg + 24), Widen.SBytes256(hi) * Vector256.Load(xg + 16));
                    acc0 = Vector256.FusedMultiplyAdd(Vector256.Create(d * scales[s]), s0, acc0);
                    acc1 = Vector256.FusedMultiplyAdd(Vector256.Create(d * scales[s + 1]), s1, acc1);
                }
            }
        }
        return Vector256.Sum(acc0 + acc1);
    }

    /// <summary>The plain reference: the formula of spec §3.2 / §3.4, one value at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Scalar(byte* row, float* x, int n)
    {
        float sum = 0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            float d = Widen.Half(p + 208);
            for (int i = 0; i < BlockValues; i++)
            {
                int h = i / 128, g = i % 128 / 32, l = i % 32;
                int lb = p[64 * h + 32 * (g & 1) + l];
                int low4 = g < 2 ? lb & 15 : lb >> 4;
                int high2 = (p[128 + 32 * h + l] >> (2 * g)) & 3;
                sum += d * (sbyte)p[192 + i / 16] * ((low4 | high2 << 4) - 32) * x[b * BlockValues + i];
            }
        }
        return sum;
    }
}
