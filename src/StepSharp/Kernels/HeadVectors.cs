using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using StepSharp.Kernels.Dot;

namespace StepSharp.Kernels;

/// <summary>
/// Dot products and axpy over one attention head (head_dim values: 8 in stories260K, 128 in Step 3.5), called
/// once per cached position and head. TensorPrimitives spends ~10–20 ns per call on dispatch and type checks,
/// which for an 8-value head is most of the work: on stories260K these calls were half of a decode step.
/// These loops have no per-call cost beyond the call.
/// </summary>
public static unsafe class HeadVectors
{
    /// <summary>Σ a[i]·b[i] over n values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = Vector256<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), s0);
                s1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), s1);
            }
            if (i + 8 <= n)
            {
                s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), s0);
                i += 8;
            }
            sum = Vector256.Sum(s0 + s1);
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y[i] += s·x[i] over n values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAdd(float* x, float s, float* y, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vs = Vector256.Create(s);
            for (; i + 8 <= n; i += 8) Vector256.FusedMultiplyAdd(Vector256.Load(x + i), vs, Vector256.Load(y + i)).Store(y + i);
        }
        for (; i < n; i++) y[i] += s * x[i];
    }

    /// <summary>n fp16 values (IEEE binary16 bits) widened to f32, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void HalfToSingle(ushort* h, float* dst, int n)
    {
        int i = 0;
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            for (; i + 8 <= n; i += 8) Widen.Halves256(Vector128.Load(h + i)).Store(dst + i);
        for (; i < n; i++) dst[i] = Widen.Half((byte*)(h + i));
    }
}
