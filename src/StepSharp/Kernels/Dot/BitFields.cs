using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StepSharp.Kernels.Dot;

/// <summary>
/// How the interleaved K-quant kernels (<see cref="Q4_KInterleavedQ8Dot"/>, <see cref="Q6_KInterleavedQ8Dot"/>) cut
/// bit fields out of bytes: one gf2p8affineqb a field where the machine has GFNI, else 16-bit shifts and masks. The
/// kernels are generic over it so that tests run both on any machine.
/// </summary>
internal interface IBitFields
{
    /// <summary>Each byte's bits 6 and 7, moved to bits 2f and 2f + 1, other bits zero.</summary>
    static abstract Vector256<byte> TopBits(Vector256<byte> w, int f);

    /// <summary>Each byte's high nibble, moved to its low nibble.</summary>
    static abstract Vector256<byte> HighNibbles(Vector256<byte> w);
}

/// <summary>
/// One gf2p8affineqb a field: each byte times a bit matrix (output bit i = the parity of input AND matrix byte 7 − i),
/// so nothing crosses into the next byte and no mask follows.
/// </summary>
internal readonly struct AffineBits : IBitFields
{
    // Output bit 2f = input bit 6 (matrix byte 7 − 2f), output bit 2f + 1 = input bit 7 (byte 6 − 2f).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> TopBits(Vector256<byte> w, int f) =>
        Gfni.V256.GaloisFieldAffineTransform(w, Vector256.Create(0x40UL << (8 * (7 - 2 * f)) | 0x80UL << (8 * (6 - 2 * f))).AsByte(), 0);

    // Output bit i = input bit i + 4 for i < 4.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> HighNibbles(Vector256<byte> w) =>
        Gfni.V256.GaloisFieldAffineTransform(w, Vector256.Create(0x1020408000000000UL).AsByte(), 0);
}

/// <summary>16-bit shifts and masks (AVX2 without GFNI).</summary>
internal readonly struct ShiftedBits : IBitFields
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> TopBits(Vector256<byte> w, int f) =>
        Vector256.ShiftRightLogical(w.AsUInt16(), 6 - 2 * f).AsByte() & Vector256.Create((byte)(3 << (2 * f)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> HighNibbles(Vector256<byte> w) =>
        Vector256.ShiftRightLogical(w.AsUInt16(), 4).AsByte() & Vector256.Create((byte)15);
}
