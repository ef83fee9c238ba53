namespace StepSharp.Tensors.Blocks;

/// <summary>
/// <see cref="GgmlType.Q6_KInterleaved"/>: Q6_K with its 6-bit values rearranged for the integer decode kernel
/// (<c>Kernels/Dot/Q6_KInterleavedQ8Dot</c>) into the lane order of <see cref="Q4_KInterleavedBlock"/>, so both
/// read the same permuted activations; made at load from Q6_K, the same 210 bytes, never written to a file.
/// In that order, lane 8g + i of vector k = 2v + h (v, g &lt; 4, h &lt; 2, i &lt; 8) is value 32(4h + g) + 8v + i.
/// Bytes 0–127: the low 4 bits, vector k's in the low (h = 0) or high (h = 1) nibbles of bytes 32v..32v+32;
/// bytes 128–191: the high 2 bits, vector k's at bits 2(k mod 4) of bytes 128 + 32(k/4)..+32; bytes 192–209 (16 int8
/// scales, fp16 d) are Q6_K's.
/// </summary>
internal static unsafe class Q6_KInterleavedBlock
{
    public const int Values = 256;
    public const int Bytes = 210;

    /// <summary>The super-block value at lane <paramref name="lane"/> of permuted vector <paramref name="k"/>.</summary>
    public static int ValueAt(int k, int lane) => 32 * (4 * (k & 1) + lane / 8) + 8 * (k >> 1) + lane % 8;

    /// <summary>Rewrites <paramref name="blocks"/> consecutive Q6_K blocks at <paramref name="p"/> into this layout, in place.</summary>
    public static void FromQ6_K(byte* p, long blocks)
    {
        byte* u = stackalloc byte[Values];   // the unsigned 6-bit values in order
        byte* o = stackalloc byte[192];      // the new low-bit and high-bit bytes
        for (long b = 0; b < blocks; b++, p += Bytes)
        {
            // Q6_K (spec §3.2): value 128h + 32g + l has its low bits in ql[64h + 32(g & 1) + l] (nibble g / 2) and
            // its high bits at 2g of qh[32h + l].
            for (int h = 0; h < 2; h++)
                for (int l = 0; l < 32; l++)
                {
                    int lo0 = p[64 * h + l], lo1 = p[64 * h + 32 + l], hi = p[128 + 32 * h + l];
                    u[128 * h + l] = (byte)((lo0 & 15) | (hi & 3) << 4);
                    u[128 * h + 32 + l] = (byte)((lo1 & 15) | (hi >> 2 & 3) << 4);
                    u[128 * h + 64 + l] = (byte)(lo0 >> 4 | (hi >> 4 & 3) << 4);
                    u[128 * h + 96 + l] = (byte)(lo1 >> 4 | (hi >> 6) << 4);
                }
            // Lane 8g + i of vectors k = 2v (value 32g + 8v + i) and 2v + 1 (value 32(4 + g) + 8v + i), see ValueAt.
            new Span<byte>(o + 128, 64).Clear();
            for (int v = 0; v < 4; v++)
                for (int lane = 0; lane < 32; lane++)
                {
                    int a = u[32 * (lane / 8) + 8 * v + lane % 8], c = u[32 * (4 + lane / 8) + 8 * v + lane % 8];
                    o[32 * v + lane] = (byte)((a & 15) | (c & 15) << 4);
                    o[128 + 32 * (v >> 1) + lane] |= (byte)((a >> 4) << (4 * (v & 1)) | (c >> 4) << (4 * (v & 1) + 2));
                }
            Buffer.MemoryCopy(o, p, 192, 192);
        }
    }

    /// <summary>One block of this layout back to Q6_K, into <paramref name="dst"/> (210 bytes, not overlapping).</summary>
    public static void ToQ6_K(byte* src, byte* dst)
    {
        new Span<byte>(dst, 192).Clear();
        for (int k = 0; k < 8; k++)
            for (int lane = 0; lane < 32; lane++)
            {
                int value = (src[32 * (k >> 1) + lane] >> (4 * (k & 1)) & 15) | (src[128 + 32 * (k >> 2) + lane] >> (2 * (k & 3)) & 3) << 4;
                int i = ValueAt(k, lane), half = i / 128, g = i % 128 / 32, l = i % 32;   // Q6_K's place of value i (spec §3.2)
                dst[64 * half + 32 * (g & 1) + l] |= (byte)((value & 15) << (g < 2 ? 0 : 4));
                dst[128 + 32 * half + l] |= (byte)((value >> 4) << (2 * g));
            }
        new ReadOnlySpan<byte>(src + 192, 18).CopyTo(new Span<byte>(dst + 192, 18));
    }

    /// <summary>Values exactly as <see cref="Q6_KBlock.Dequantize"/> gives them for the Q6_K block this was made from.</summary>
    public static void Dequantize(ReadOnlySpan<byte> block, Span<float> y)
    {
        byte* q6k = stackalloc byte[Bytes];
        fixed (byte* p = block) ToQ6_K(p, q6k);
        Q6_KBlock.Dequantize(new ReadOnlySpan<byte>(q6k, Bytes), y);
    }
}
