using System.Buffers.Binary;
using StepSharp.Tensors;

namespace StepSharp.Tests.Tensors;

/// <summary>
/// An independent per-value decoder written straight from the per-index formulas of spec
/// gguf-format.md §3 (one formula per value i, no loops over sub-blocks, no shared code with the
/// production block codecs). Tests compare the production decoder against it bit for bit.
/// </summary>
internal static class SpecBlockDecoder
{
    public static float Value(GgmlType type, ReadOnlySpan<byte> b, int i) => type switch
    {
        GgmlType.Q4_0 => (N4(b[2..], i) - 8) * H(b, 0),
        GgmlType.Q4_1 => N4(b[4..], i) * H(b, 0) + H(b, 2),
        GgmlType.Q5_0 => (N5(b[6..], U32(b, 2), i) - 16) * H(b, 0),
        GgmlType.Q5_1 => N5(b[8..], U32(b, 4), i) * H(b, 0) + H(b, 2),
        GgmlType.Q8_0 => (sbyte)b[2 + i] * H(b, 0),
        GgmlType.Q2_K => Q2K(b, i),
        GgmlType.Q3_K => Q3K(b, i),
        GgmlType.Q4_K => Q4K(b, i),
        GgmlType.Q5_K => Q5K(b, i),
        GgmlType.Q6_K => Q6K(b, i),
        GgmlType.Q8_K => BinaryPrimitives.ReadSingleLittleEndian(b) * (sbyte)b[4 + i],
        _ => throw new ArgumentException(type.ToString()),
    };

    public static float H(ReadOnlySpan<byte> b, int offset) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(b[offset..]));
    private static uint U32(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(b[offset..]);
    private static int Lo(byte x) => x & 15;
    private static int Hi(byte x) => x >> 4;

    // §3.1: n(i) = i < 16 ? lo(qs[i]) : hi(qs[i-16]); n5 adds bit i of qh as bit 4.
    private static int N4(ReadOnlySpan<byte> qs, int i) => i < 16 ? Lo(qs[i]) : Hi(qs[i - 16]);
    private static int N5(ReadOnlySpan<byte> qs, uint qh, int i) => N4(qs, i) | (int)((qh >> i) & 1) << 4;

    private static float Q2K(ReadOnlySpan<byte> b, int i)
    {
        int h = i / 128, g = i % 128 / 32, l = i % 32;
        int q = (b[16 + 32 * h + l] >> (2 * g)) & 3;
        byte s = b[i / 16];
        return (H(b, 80) * Lo(s)) * q - H(b, 82) * Hi(s);
    }

    private static float Q3K(ReadOnlySpan<byte> b, int i)
    {
        int h = i / 128, g = i % 128 / 32, l = i % 32;
        int q2 = (b[32 + 32 * h + l] >> (2 * g)) & 3;
        int hb = (b[i % 32] >> (i / 32)) & 1;
        int q = q2 - 4 + 4 * hb;
        int k = i / 16;
        ReadOnlySpan<byte> scales = b.Slice(96, 12);
        int low4 = k < 8 ? Lo(scales[k]) : Hi(scales[k - 8]);
        int high2 = (scales[8 + k % 4] >> (2 * (k / 4))) & 3;
        int sc = (low4 | high2 << 4) - 32;
        return (H(b, 108) * sc) * q;
    }

    public static (int Sc, int M) Scale6(ReadOnlySpan<byte> s, int j) => j < 4
        ? (s[j] & 63, s[j + 4] & 63)
        : (Lo(s[j + 4]) | (s[j - 4] >> 6) << 4, Hi(s[j + 4]) | (s[j] >> 6) << 4);

    private static float Q4K(ReadOnlySpan<byte> b, int i)
    {
        int c = i / 64, r = i % 64, j = i / 32;
        byte q = b[16 + 32 * c + r % 32];
        int n = r < 32 ? Lo(q) : Hi(q);
        var (sc, m) = Scale6(b.Slice(4, 12), j);
        return (H(b, 0) * sc) * n - (H(b, 2) * m);
    }

    private static float Q5K(ReadOnlySpan<byte> b, int i)
    {
        int c = i / 64, r = i % 64, j = i / 32;
        byte q = b[48 + 32 * c + r % 32];
        int n5 = (r < 32 ? Lo(q) : Hi(q)) + 16 * ((b[16 + i % 32] >> (i / 32)) & 1);
        var (sc, m) = Scale6(b.Slice(4, 12), j);
        return (H(b, 0) * sc) * n5 - (H(b, 2) * m);
    }

    private static float Q6K(ReadOnlySpan<byte> b, int i)
    {
        int h = i / 128, g = i % 128 / 32, l = i % 32;
        byte lb = b[64 * h + 32 * (g & 1) + l];
        int low4 = g < 2 ? Lo(lb) : Hi(lb);
        int high2 = (b[128 + 32 * h + l] >> (2 * g)) & 3;
        int q = (low4 | high2 << 4) - 32;
        return (H(b, 208) * (sbyte)b[192 + i / 16]) * q;
    }
}
