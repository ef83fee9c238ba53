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

    /// <summary>
    /// <see cref="Scores"/> for <paramref name="heads"/> query heads against the same key rows: head h's query at
    /// q + h·n, its scores at scores + h·<paramref name="scoresStride"/>. Two heads at a time where AVX-512 gives the
    /// JIT 32 vector registers: each key load then feeds two heads' FMAs (16 accumulators for 2 heads × 4 keys), and
    /// each score is still <see cref="Dot"/>'s arithmetic exactly. In L1 (bench `AttentionBenchmarks`, 16 keys × 128,
    /// 8 heads): 452 ns a tile one head at a time, 390 ns two at a time.
    /// </summary>
    public static void Scores(float* q, int heads, float* k, int n, int count, float* scores, int scoresStride, float scale)
    {
        int h = 0;
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported && n >= 16)
            for (; h + 2 <= heads; h += 2) ScoresTwoHeads(q + (long)h * n, k, n, count, scores + (long)h * scoresStride, scoresStride, scale);
        for (; h < heads; h++) Scores(q + (long)h * n, k, n, count, scores + (long)h * scoresStride, scale);
    }

    /// <summary>Heads 0 and 1 (queries q, q + n; scores s, s + stride) of <see cref="Scores(float*, int, float*, int, int, float*, int, float)"/>.</summary>
    private static void ScoresTwoHeads(float* q, float* k, int n, int count, float* s, int stride, float scale)
    {
        float* r = q + n, t = s + stride;
        int j = 0;
        for (; j + 4 <= count; j += 4)
        {
            float* k0 = k + (long)j * n, k1 = k0 + n, k2 = k1 + n, k3 = k2 + n;
            Vector256<float> e0 = Vector256<float>.Zero, e1 = e0, e2 = e0, e3 = e0, o0 = e0, o1 = e0, o2 = e0, o3 = e0;
            Vector256<float> f0 = e0, f1 = e0, f2 = e0, f3 = e0, p0 = e0, p1 = e0, p2 = e0, p3 = e0;
            int i = 0;
            for (; i + 16 <= n; i += 16)
            {
                Vector256<float> qe = Vector256.Load(q + i), qo = Vector256.Load(q + i + 8), re = Vector256.Load(r + i), ro = Vector256.Load(r + i + 8);
                Vector256<float> a = Vector256.Load(k0 + i), b = Vector256.Load(k0 + i + 8);
                e0 = Vector256.FusedMultiplyAdd(qe, a, e0); o0 = Vector256.FusedMultiplyAdd(qo, b, o0);
                f0 = Vector256.FusedMultiplyAdd(re, a, f0); p0 = Vector256.FusedMultiplyAdd(ro, b, p0);
                a = Vector256.Load(k1 + i); b = Vector256.Load(k1 + i + 8);
                e1 = Vector256.FusedMultiplyAdd(qe, a, e1); o1 = Vector256.FusedMultiplyAdd(qo, b, o1);
                f1 = Vector256.FusedMultiplyAdd(re, a, f1); p1 = Vector256.FusedMultiplyAdd(ro, b, p1);
                a = Vector256.Load(k2 + i); b = Vector256.Load(k2 + i + 8);
                e2 = Vector256.FusedMultiplyAdd(qe, a, e2); o2 = Vector256.FusedMultiplyAdd(qo, b, o2);
                f2 = Vector256.FusedMultiplyAdd(re, a, f2); p2 = Vector256.FusedMultiplyAdd(ro, b, p2);
                a = Vector256.Load(k3 + i); b = Vector256.Load(k3 + i + 8);
                e3 = Vector256.FusedMultiplyAdd(qe, a, e3); o3 = Vector256.FusedMultiplyAdd(qo, b, o3);
                f3 = Vector256.FusedMultiplyAdd(re, a, f3); p3 = Vector256.FusedMultiplyAdd(ro, b, p3);
            }
            if (i + 8 <= n)
            {
                Vector256<float> qe = Vector256.Load(q + i), re = Vector256.Load(r + i);
                Vector256<float> a = Vector256.Load(k0 + i);
                e0 = Vector256.FusedMultiplyAdd(qe, a, e0); f0 = Vector256.FusedMultiplyAdd(re, a, f0);
                a = Vector256.Load(k1 + i);
                e1 = Vector256.FusedMultiplyAdd(qe, a, e1); f1 = Vector256.FusedMultiplyAdd(re, a, f1);
                a = Vector256.Load(k2 + i);
                e2 = Vector256.FusedMultiplyAdd(qe, a, e2); f2 = Vector256.FusedMultiplyAdd(re, a, f2);
                a = Vector256.Load(k3 + i);
                e3 = Vector256.FusedMultiplyAdd(qe, a, e3); f3 = Vector256.FusedMultiplyAdd(re, a, f3);
                i += 8;
            }
            Vector128<float> sq = Widen.Sums4(e0 + o0, e1 + o1, e2 + o2, e3 + o3), sr = Widen.Sums4(f0 + p0, f1 + p1, f2 + p2, f3 + p3);
            if (i == n)
            {
                (sq * scale).Store(s + j);
                (sr * scale).Store(t + j);
            }
            else
            {
                s[j] = Tail(sq.GetElement(0), q, k0, i, n) * scale; s[j + 1] = Tail(sq.GetElement(1), q, k1, i, n) * scale;
                s[j + 2] = Tail(sq.GetElement(2), q, k2, i, n) * scale; s[j + 3] = Tail(sq.GetElement(3), q, k3, i, n) * scale;
                t[j] = Tail(sr.GetElement(0), r, k0, i, n) * scale; t[j + 1] = Tail(sr.GetElement(1), r, k1, i, n) * scale;
                t[j + 2] = Tail(sr.GetElement(2), r, k2, i, n) * scale; t[j + 3] = Tail(sr.GetElement(3), r, k3, i, n) * scale;
            }
        }
        for (; j < count; j++)
        {
            s[j] = Dot(q, k + (long)j * n, n) * scale;
            t[j] = Dot(r, k + (long)j * n, n) * scale;
        }
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
    public static void AccumulateWeighted(float* o, float* weights, float* v, int n, int count) => AccumulateWeighted(o, weights, v, n, count, n);

    /// <summary>The one-head loop over <paramref name="width"/> values of rows <paramref name="stride"/> apart.</summary>
    private static void AccumulateWeighted(float* o, float* weights, float* v, int width, int count, int stride)
    {
        int c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c + 32 <= width; c += 32)
            {
                Vector256<float> o0 = Vector256.Load(o + c), o1 = Vector256.Load(o + c + 8), o2 = Vector256.Load(o + c + 16), o3 = Vector256.Load(o + c + 24);
                float* vc = v + c;
                for (int j = 0; j < count; j++, vc += stride)
                {
                    Vector256<float> w = Vector256.Create(weights[j]);
                    o0 = Vector256.FusedMultiplyAdd(Vector256.Load(vc), w, o0);
                    o1 = Vector256.FusedMultiplyAdd(Vector256.Load(vc + 8), w, o1);
                    o2 = Vector256.FusedMultiplyAdd(Vector256.Load(vc + 16), w, o2);
                    o3 = Vector256.FusedMultiplyAdd(Vector256.Load(vc + 24), w, o3);
                }
                o0.Store(o + c); o1.Store(o + c + 8); o2.Store(o + c + 16); o3.Store(o + c + 24);
            }
            for (; c + 8 <= width; c += 8)
            {
                Vector256<float> o0 = Vector256.Load(o + c);
                for (int j = 0; j < count; j++) o0 = Vector256.FusedMultiplyAdd(Vector256.Load(v + (long)j * stride + c), Vector256.Create(weights[j]), o0);
                o0.Store(o + c);
            }
        }
        for (; c < width; c++)
        {
            float acc = o[c];
            for (int j = 0; j < count; j++) acc += weights[j] * v[(long)j * stride + c];
            o[c] = acc;
        }
    }

    /// <summary>
    /// <see cref="AccumulateWeighted(float*, float*, float*, int, int)"/> for <paramref name="heads"/> heads over the
    /// same value rows: head h's output at o + h·n, its weights at weights + h·<paramref name="weightsStride"/>. Two
    /// heads at a time where AVX-512 gives the JIT 32 vector registers, each value load feeding both; every output
    /// element gets the same operations in the same order as with one head at a time. In L1 (`AttentionBenchmarks`):
    /// 540 ns a tile one head at a time, 307 ns two at a time.
    /// </summary>
    public static void AccumulateWeighted(float* o, int heads, float* weights, int weightsStride, float* v, int n, int count)
    {
        int h = 0;
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
            for (; h + 2 <= heads; h += 2)
            {
                float* oa = o + (long)h * n, ob = oa + n, wa = weights + (long)h * weightsStride, wb = wa + weightsStride;
                int c = 0;
                for (; c + 32 <= n; c += 32)
                {
                    Vector256<float> a0 = Vector256.Load(oa + c), a1 = Vector256.Load(oa + c + 8), a2 = Vector256.Load(oa + c + 16), a3 = Vector256.Load(oa + c + 24);
                    Vector256<float> b0 = Vector256.Load(ob + c), b1 = Vector256.Load(ob + c + 8), b2 = Vector256.Load(ob + c + 16), b3 = Vector256.Load(ob + c + 24);
                    float* vc = v + c;
                    for (int j = 0; j < count; j++, vc += n)
                    {
                        Vector256<float> x = Vector256.Create(wa[j]), y = Vector256.Create(wb[j]);
                        Vector256<float> v0 = Vector256.Load(vc), v1 = Vector256.Load(vc + 8), v2 = Vector256.Load(vc + 16), v3 = Vector256.Load(vc + 24);
                        a0 = Vector256.FusedMultiplyAdd(v0, x, a0); a1 = Vector256.FusedMultiplyAdd(v1, x, a1);
                        a2 = Vector256.FusedMultiplyAdd(v2, x, a2); a3 = Vector256.FusedMultiplyAdd(v3, x, a3);
                        b0 = Vector256.FusedMultiplyAdd(v0, y, b0); b1 = Vector256.FusedMultiplyAdd(v1, y, b1);
                        b2 = Vector256.FusedMultiplyAdd(v2, y, b2); b3 = Vector256.FusedMultiplyAdd(v3, y, b3);
                    }
                    a0.Store(oa + c); a1.Store(oa + c + 8); a2.Store(oa + c + 16); a3.Store(oa + c + 24);
                    b0.Store(ob + c); b1.Store(ob + c + 8); b2.Store(ob + c + 16); b3.Store(ob + c + 24);
                }
                // The rest (n not a multiple of 32) one head at a time, as the one-head loop does it.
                if (c < n)
                {
                    AccumulateWeighted(oa + c, wa, v + c, n - c, count, n);
                    AccumulateWeighted(ob + c, wb, v + c, n - c, count, n);
                }
            }
        for (; h < heads; h++) AccumulateWeighted(o + (long)h * n, weights + (long)h * weightsStride, v, n, count);
    }

    /// <summary>
    /// <see cref="HalfToSingle"/> for values known to be finite (no fp16 inf or NaN among them), in under half the
    /// operations (<see cref="Widen.FiniteHalves512"/>): the F16 KV cache knows whether it ever stored an inf or NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FiniteHalfToSingle(ushort* h, float* dst, int n)
    {
        int i = 0;
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
            for (; i + 16 <= n; i += 16) Widen.FiniteHalves512(Vector256.Load((short*)h + i)).Store(dst + i);
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            for (; i + 8 <= n; i += 8) Widen.FiniteHalves256(Vector128.Load((short*)h + i)).Store(dst + i);
        for (; i < n; i++) dst[i] = Widen.Half((byte*)(h + i));
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
