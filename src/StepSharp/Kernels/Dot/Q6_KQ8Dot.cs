using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// dot(Q6_K row, x) with x rounded to int8 blocks of 32 (<see cref="Q8Activations.Quantize"/>), for
/// <see cref="ActivationQuantization"/>. A Q6_K super-block (spec gguf-format.md §3.2: ql[128] low nibbles, qh[64]
/// high bit pairs, 16 int8 scales, fp16 d) is 256 values w = d·sc_g·(q − 32), one scale per 16 values g. Per 32
/// activations c: Σ w·x ≈ d·dx_c·(sc_2c·Σ_{first 16} (q−32)·qx + sc_2c+1·Σ_{last 16} (q−32)·qx), the inner sums exact
/// integers. The 6-bit values are unpacked to signed bytes in value order first (one super-block, 256 bytes on the stack).
/// </summary>
internal static unsafe class Q6_KQ8Dot
{
    private const int BlockValues = 256, BlockBytes = 210;

    public static float Dot(Isa isa, byte* row, sbyte* q, float* dq, int n) =>
        isa == Isa.Scalar ? Scalar(row, q, dq, n) : Avx2(row, q, dq, n);

    /// <summary>256-bit on both vector tiers, for the reason given in <see cref="Q8Activations.Avx2"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2(byte* row, sbyte* q, float* dq, int n)
    {
        sbyte* w = stackalloc sbyte[BlockValues];
        Vector256<byte> low4 = Vector256.Create((byte)0x0F);
        Vector256<byte> bits45 = Vector256.Create((byte)0x30);
        Vector256<sbyte> bias = Vector256.Create((sbyte)32);
        Vector256<short> ones = Vector256.Create((short)1);
        Vector256<float> acc = Vector256<float>.Zero;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            byte* ql = p, qh = p + 128;
            sbyte* sc = (sbyte*)(p + 192);
            float d = Widen.Half(p + 208);
            for (int half = 0; half < 2; half++)
            {
                Vector256<byte> l0 = Vector256.Load(ql + half * 64), l1 = Vector256.Load(ql + half * 64 + 32), h = Vector256.Load(qh + half * 32);
                // Byte-wise shifts through 16-bit lanes; the masks keep each byte's own bits.
                Vector256<byte> h2 = Vector256.ShiftLeft(h.AsUInt16(), 4).AsByte(), h1 = Vector256.ShiftLeft(h.AsUInt16(), 2).AsByte();
                Vector256<byte> hr2 = Vector256.ShiftRightLogical(h.AsUInt16(), 2).AsByte();
                Vector256<byte> l0hi = Vector256.ShiftRightLogical(l0.AsUInt16(), 4).AsByte() & low4, l1hi = Vector256.ShiftRightLogical(l1.AsUInt16(), 4).AsByte() & low4;
                Vector256<byte> q1 = (l0 & low4) | (h2 & bits45);        // value l:      bits 0–1 of qh
                Vector256<byte> q2 = (l1 & low4) | (h1 & bits45);        // value l + 32: bits 2–3
                Vector256<byte> q3 = l0hi | (h & bits45);                // value l + 64: bits 4–5
                Vector256<byte> q4 = l1hi | (hr2 & bits45);              // value l + 96: bits 6–7
                sbyte* o = w + half * 128;
                (q1.AsSByte() - bias).Store(o);
                (q2.AsSByte() - bias).Store(o + 32);
                (q3.AsSByte() - bias).Store(o + 64);
                (q4.AsSByte() - bias).Store(o + 96);
            }
            sbyte* qb = q + b * BlockValues;
            float* db = dq + b * (BlockValues / 32);
            for (int c = 0; c < BlockValues / 32; c++)
            {
                Vector256<sbyte> wv = Vector256.Load(w + c * 32), xv = Vector256.Load(qb + c * 32);
                Vector256<short> pairs = System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(System.Runtime.Intrinsics.X86.Avx2.Abs(wv), System.Runtime.Intrinsics.X86.Avx2.Sign(xv, wv));
                Vector256<float> sums = Avx.ConvertToVector256Single(System.Runtime.Intrinsics.X86.Avx2.MultiplyAddAdjacent(pairs, ones));
                float f = d * db[c];
                // Lanes 0–3 hold the first 16 values' sums, lanes 4–7 the last 16's.
                Vector256<float> scale = Vector256.Create(Vector128.Create(f * sc[2 * c]), Vector128.Create(f * sc[2 * c + 1]));
                acc = Vector256.FusedMultiplyAdd(sums, scale, acc);
            }
        }
        return Vector256.Sum(acc);
    }

    /// <summary>The plain reference: each weight dequantized by the spec formula times each rounded activation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Scalar(byte* row, sbyte* q, float* dq, int n)
    {
        double sum = 0;
        for (int b = 0; b < n / BlockValues; b++)
        {
            byte* p = row + b * BlockBytes;
            byte* ql = p, qh = p + 128;
            sbyte* sc = (sbyte*)(p + 192);
            float d = Widen.Half(p + 208);
            for (int half = 0; half < 2; half++)
                for (int l = 0; l < 32; l++)
                {
                    int y = b * BlockValues + half * 128 + l;
                    byte a = ql[half * 64 + l], c = ql[half * 64 + l + 32], h = qh[half * 32 + l];
                    int v1 = ((a & 0xF) | ((h >> 0) & 3) << 4) - 32;
                    int v2 = ((c & 0xF) | ((h >> 2) & 3) << 4) - 32;
                    int v3 = ((a >> 4) | ((h >> 4) & 3) << 4) - 32;
                    int v4 = ((c >> 4) | ((h >> 6) & 3) << 4) - 32;
                    int s = half * 8 + l / 16;
                    sum += (double)d * sc[s] * v1 * q[y] * dq[y / 32];
                    sum += (double)d * sc[s + 2] * v2 * q[y + 32] * dq[(y + 32) / 32];
                    sum += (double)d * sc[s + 4] * v3 * q[y + 64] * dq[(y + 64) / 32];
                    sum += (double)d * sc[s + 6] * v4 * q[y + 96] * dq[(y + 96) / 32];
                }
        }
        return (float)sum;
    }
}
