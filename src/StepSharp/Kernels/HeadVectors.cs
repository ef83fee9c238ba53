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
        return Tail(sum, a, b, i, n);
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

    /// <summary>
    /// scores[j] = scale · dot(q, k + j·n) for <paramref name="count"/> key rows of n values, four rows at a time
    /// sharing the loads of q and one transposed reduction. Each score is <see cref="Dot"/>'s arithmetic exactly
    /// (same two accumulators, same lane order as Vector256.Sum — a test checks the bits): the int8-activation
    /// conformance test against llama.cpp is chaotic in the order of these sums (a one-accumulator variant
    /// flipped an activation rounding at position 29 of 40).
    /// </summary>
    public static void Scores(float* q, float* k, int n, int count, float* scores, float scale)
    {
        int j = 0;
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported && n >= 8)
        {
            for (; j + 4 <= count; j += 4)
            {
                float* k0 = k + (long)j * n, k1 = k0 + n, k2 = k1 + n, k3 = k2 + n;
                Vector256<float> e0 = Vector256<float>.Zero, e1 = e0, e2 = e0, e3 = e0, o0 = e0, o1 = e0, o2 = e0, o3 = e0;
                int i = 0;
                for (; i + 16 <= n; i += 16)
                {
                    Vector256<float> qe = Vector256.Load(q + i), qo = Vector256.Load(q + i + 8);
                    e0 = Vector256.FusedMultiplyAdd(qe, Vector256.Load(k0 + i), e0); o0 = Vector256.FusedMultiplyAdd(qo, Vector256.Load(k0 + i + 8), o0);
                    e1 = Vector256.FusedMultiplyAdd(qe, Vector256.Load(k1 + i), e1); o1 = Vector256.FusedMultiplyAdd(qo, Vector256.Load(k1 + i + 8), o1);
                    e2 = Vector256.FusedMultiplyAdd(qe, Vector256.Load(k2 + i), e2); o2 = Vector256.FusedMultiplyAdd(qo, Vector256.Load(k2 + i + 8), o2);
                    e3 = Vector256.FusedMultiplyAdd(qe, Vector256.Load(k3 + i), e3); o3 = Vector256.FusedMultiplyAdd(qo, Vector256.Load(k3 + i + 8), o3);
                }
                if (i + 8 <= n)
                {
                    Vector256<float> qe = Vector256.Load(q + i);
                    e0 = Vector256.FusedMultiplyAdd(qe, Vector256.Load(k0 + i), e0);
                    e1 = Vector256.FusedMultiplyAdd(qe, Vector256.Load(k1 + i), e1);
                    e2 = Vector256.FusedMultiplyAdd(qe, Vector256.Load(k2 + i), e2);
                    e3 = Vector256.FusedMultiplyAdd(qe, Vector256.Load(k3 + i), e3);
                    i += 8;
                }
                Vector128<float> sums = Widen.Sums4(e0 + o0, e1 + o1, e2 + o2, e3 + o3);
                scores[j] = Tail(sums.GetElement(0), q, k0, i, n) * scale;
                scores[j + 1] = Tail(sums.GetElement(1), q, k1, i, n) * scale;
                scores[j + 2] = Tail(sums.GetElement(2), q, k2, i, n) * scale;
                scores[j + 3] = Tail(sums.GetElement(3), q, k3, i, n) * scale;
            }
        }
        for (; j < count; j++) scores[j] = Dot(q, k + (long)j * n, n) * scale;
    }

    /// <summary>Dot's scalar tail: the products after the last full 8-value chunk added to <paramref name="sum"/> in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail(float sum, float* a, float* b, int i, int n)
    {
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>
    /// o[0..n) += Σ_j weights[j]·v[j·n ..] over <paramref name="count"/> value rows, j ascending: the same
    /// operations per element as <see cref="MultiplyAdd"/> row after row, with each 32-value slice of o kept in
    /// registers across all the rows instead of loaded and stored per row.
    /// </summary>
    public static void AccumulateWeighted(float* o, float* weights, float* v, int n, int count)
    {
        int c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c + 32 <= n; c += 32)
            {
                Vector256<float> o0 = Vector256.Load(o + c), o1 = Vector256.Load(o + c + 8), o2 = Vector256.Load(o + c + 16), o3 = Vector256.Load(o + c + 24);
                float* vc = v + c;
                for (int j = 0; j < count; j++, vc += n)
                {
                    Vector256<float> w = Vector256.Create(weights[j]);
                    o0 = Vector256.FusedMultiplyAdd(Vector256.Load(vc), w, o0);
                    o1 = Vector256.FusedMultiplyAdd(Vector256.Load(vc + 8), w, o1);
                    o2 = Vector256.FusedMultiplyAdd(Vector256.Load(vc + 16), w, o2);
                    o3 = Vector256.FusedMultiplyAdd(Vector256.Load(vc + 24), w, o3);
                }
                o0.Store(o + c); o1.Store(o + c + 8); o2.Store(o + c + 16); o3.Store(o + c + 24);
            }
            for (; c + 8 <= n; c += 8)
            {
                Vector256<float> o0 = Vector256.Load(o + c);
                for (int j = 0; j < count; j++) o0 = Vector256.FusedMultiplyAdd(Vector256.Load(v + (long)j * n + c), Vector256.Create(weights[j]), o0);
                o0.Store(o + c);
            }
        }
        for (; c < n; c++)
        {
            float acc = o[c];
            for (int j = 0; j < count; j++) acc += weights[j] * v[(long)j * n + c];
            o[c] = acc;
        }
    }

    /// <summary>
    /// n fp16 values (IEEE binary16 bits) widened to f32, exactly; 16 at a time where AVX-512 is there (.NET has no
    /// F16C or AVX-512 conversion intrinsic, so this is integer arithmetic either way: half the instructions per value
    /// at 512 bits; decode at depth 4096, mini Q4_K_M, one thread, alternating runs: median ~122 → ~131–140 tokens/s).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void HalfToSingle(ushort* h, float* dst, int n)
    {
        int i = 0;
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
            for (; i + 16 <= n; i += 16) Widen.Halves512(Vector256.Load(h + i)).Store(dst + i);
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            for (; i + 8 <= n; i += 8) Widen.Halves256(Vector128.Load(h + i)).Store(dst + i);
        for (; i < n; i++) dst[i] = Widen.Half((byte*)(h + i));
    }
}
