using System.Globalization;

namespace StepSharp.Tokenization;

/// <summary>
/// Unicode category flags of one code point, grouped exactly as llama.cpp's unicode tables group them
/// (unicode.h / scripts/gen-unicode-data.py): every L* is a letter, every N* a number, Cc/Cf/Co/Cs are
/// "control", Cn is "undefined". Whitespace is the fixed White_Space list llama.cpp uses, not .NET's.
/// The categories come from .NET's Unicode tables, which may be a newer Unicode version than the one
/// llama.cpp generated its tables from; only characters assigned in between can differ.
/// </summary>
[Flags]
internal enum CodepointFlags : ushort
{
    /// <summary>Out of the text range (llama.cpp's empty flags); never set for a real code point.</summary>
    None = 0,
    Undefined = 0x0001,
    Number = 0x0002,
    Letter = 0x0004,
    Separator = 0x0008,
    AccentMark = 0x0010,
    Punctuation = 0x0020,
    Symbol = 0x0040,
    Control = 0x0080,
    CategoryMask = 0x00FF,
    Whitespace = 0x0100,
}

internal static class Codepoints
{
    private const int MaxCodepoint = 0x110000;
    private static readonly ushort[] BmpFlags = BuildBmp();

    /// <summary>Flags of a code point (llama.cpp unicode_cpt_flags_from_cpt).</summary>
    public static CodepointFlags Flags(int cp)
    {
        if ((uint)cp < (uint)BmpFlags.Length) return (CodepointFlags)BmpFlags[cp];
        if (cp >= MaxCodepoint || cp < 0) return CodepointFlags.Undefined;
        return Compute(cp);
    }

    private static ushort[] BuildBmp()
    {
        var table = new ushort[0x10000];
        for (int cp = 0; cp < table.Length; cp++) table[cp] = (ushort)Compute(cp);
        return table;
    }

    private static CodepointFlags Compute(int cp)
    {
        CodepointFlags f = CategoryOf(CharUnicodeInfo.GetUnicodeCategory(cp));
        if (IsWhitespace(cp)) f |= CodepointFlags.Whitespace;
        return f;
    }

    private static CodepointFlags CategoryOf(UnicodeCategory c) => c switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CodepointFlags.Letter,
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            => CodepointFlags.AccentMark,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            => CodepointFlags.Number,
        UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            => CodepointFlags.Separator,
        UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => CodepointFlags.Punctuation,
        UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
            or UnicodeCategory.OtherSymbol => CodepointFlags.Symbol,
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            => CodepointFlags.Control,
        _ => CodepointFlags.Undefined,
    };

    /// <summary>The White_Space list of gen-unicode-data.py (PropList.txt).</summary>
    public static bool IsWhitespace(int cp) =>
        (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
        || cp == 0x3000;

    /// <summary>
    /// Decodes UTF-8 to code points like llama.cpp's unicode_cpts_from_utf8: the lead byte decides the
    /// length, continuation bytes are checked, an invalid byte becomes U+FFFD and decoding resumes at
    /// the next byte. (Overlong forms are accepted, as llama.cpp does.)
    /// </summary>
    public static int[] FromUtf8(ReadOnlySpan<byte> utf8)
    {
        var result = new int[utf8.Length];
        int n = 0, i = 0;
        while (i < utf8.Length)
        {
            byte b = utf8[i];
            if (b < 0x80) { result[n++] = b; i++; continue; }
            int len = (b & 0x40) == 0 ? 0 : (b & 0x20) == 0 ? 2 : (b & 0x10) == 0 ? 3 : (b & 0x08) == 0 ? 4 : 0;
            if (len == 0 || i + len > utf8.Length || !Continuations(utf8.Slice(i + 1, len - 1)))
            {
                result[n++] = 0xFFFD; i++; continue;
            }
            int cp = len switch
            {
                2 => ((b & 0x1F) << 6) | (utf8[i + 1] & 0x3F),
                3 => ((b & 0x0F) << 12) | ((utf8[i + 1] & 0x3F) << 6) | (utf8[i + 2] & 0x3F),
                _ => ((b & 0x07) << 18) | ((utf8[i + 1] & 0x3F) << 12) | ((utf8[i + 2] & 0x3F) << 6) | (utf8[i + 3] & 0x3F),
            };
            result[n++] = cp;
            i += len;
        }
        return result.AsSpan(0, n).ToArray();
    }

    private static bool Continuations(ReadOnlySpan<byte> bytes)
    {
        foreach (byte c in bytes) if ((c & 0xC0) != 0x80) return false;
        return true;
    }

    /// <summary>Appends a code point as UTF-8 (values beyond U+10FFFF, which llama.cpp rejects, become U+FFFD).</summary>
    public static void AppendUtf8(List<byte> output, int cp)
    {
        if (cp < 0x80) { output.Add((byte)cp); return; }
        if (cp < 0x800) { output.Add((byte)(0xC0 | (cp >> 6))); output.Add((byte)(0x80 | (cp & 0x3F))); return; }
        if (cp < 0x10000)
        {
            output.Add((byte)(0xE0 | (cp >> 12))); output.Add((byte)(0x80 | ((cp >> 6) & 0x3F))); output.Add((byte)(0x80 | (cp & 0x3F)));
            return;
        }
        if (cp > 0x10FFFF) { AppendUtf8(output, 0xFFFD); return; }
        output.Add((byte)(0xF0 | (cp >> 18))); output.Add((byte)(0x80 | ((cp >> 12) & 0x3F)));
        output.Add((byte)(0x80 | ((cp >> 6) & 0x3F))); output.Add((byte)(0x80 | (cp & 0x3F)));
    }

    /// <summary>Simple (1:1) lower-case mapping, as llama.cpp's unicode_tolower table.</summary>
    public static int ToLower(int cp) =>
        cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? cp : System.Text.Rune.ToLowerInvariant(new System.Text.Rune(cp)).Value;
}
