namespace StepSharp.Tokenization;

/// <summary>
/// GPT-2's reversible byte ↔ printable-character map used by byte-level BPE vocabularies: the printable
/// Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in byte order (so ' ' is 'Ġ', '\n' is 'Ċ').
/// </summary>
internal static class Gpt2ByteMapping
{
    private static readonly char[] ByteToCharTable = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte();

    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The byte a mapped character stands for, or -1 when the character is not in the map.</summary>
    public static int CharToByte(int c) => (uint)c < (uint)CharToByteTable.Length ? CharToByteTable[c] : -1;

    private static bool IsPrintableLatin1(int b) => (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        int next = 0;
        for (int b = 0; b < 256; b++) table[b] = IsPrintableLatin1(b) ? (char)b : (char)(256 + next++);
        return table;
    }

    private static short[] BuildCharToByte()
    {
        var table = new short[0x200];
        Array.Fill(table, (short)-1);
        for (int b = 0; b < 256; b++) table[ByteToCharTable[b]] = (short)b;
        return table;
    }

    /// <summary>Maps raw bytes to the vocabulary's character form.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, src) =>
        {
            for (int i = 0; i < src.Length; i++) span[i] = ByteToCharTable[src[i]];
        });
    }

    /// <summary>
    /// Maps a token's character form back to raw bytes (llama.cpp llama_decode_text). A character outside
    /// the map (possible only in malformed vocabularies) keeps its own UTF-8 bytes.
    /// </summary>
    public static byte[] Decode(string text)
    {
        var output = new List<byte>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            int b = CharToByte(rune.Value);
            if (b >= 0) output.Add((byte)b);
            else Codepoints.AppendUtf8(output, rune.Value);
        }
        return output.ToArray();
    }
}
