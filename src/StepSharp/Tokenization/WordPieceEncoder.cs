using System.Text;

namespace StepSharp.Tokenization;

/// <summary>
/// BERT WordPiece as llama.cpp does it (llm_tokenizer_wpm_session): normalise (lower-case, drop accents
/// and control characters), split on whitespace, punctuation and CJK characters, then match each word
/// greedily longest-first against tokens stored with a '▁' word-start marker (the GGUF converter turns
/// "##x" into "x" and "x" into "▁x"). A word with an unmatched remainder becomes [UNK].
/// </summary>
internal sealed class WordPieceEncoder(Vocabulary vocab)
{
    public void Encode(string text, List<int> output)
    {
        foreach (string word in Preprocess(text))
        {
            string w = "\u2581" + word;
            int before = output.Count;
            for (int i = 0; i < w.Length; i++)
            {
                bool matched = false;
                for (int j = Math.Min(w.Length, i + vocab.MaxTokenLength + 1); j > i; j--)
                {
                    int id = vocab.Find(w.AsSpan(i, j - i));
                    if (id < 0) continue;
                    output.Add(id);
                    matched = true;
                    i = j - 1;
                    break;
                }
                if (!matched) { output.RemoveRange(before, output.Count - before); break; }
            }
            if (output.Count == before) output.Add(vocab.Unk);
        }
    }

    private List<string> Preprocess(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        void Finish() { if (current.Length > 0) { words.Add(current.ToString()); current.Clear(); } }
        foreach (var rune in text.EnumerateRunes())
        {
            int cp = rune.Value;
            if (vocab.StripAccents) cp = NfdFirstCodepointTable.Map(cp);
            var flags = Codepoints.Flags(cp);
            if ((flags & CodepointFlags.Whitespace) != 0) { Finish(); continue; }
            if (cp == 0 || cp == 0xFFFD || (flags & CodepointFlags.Control) != 0) continue;
            if (vocab.StripAccents && (flags & CodepointFlags.AccentMark) != 0) continue;
            string s = char.ConvertFromUtf32(vocab.Lowercase ? Codepoints.ToLower(cp) : cp);
            if ((flags & CodepointFlags.Punctuation) != 0 || (cp < 0x7F && (flags & CodepointFlags.Symbol) != 0) || IsChinese(cp))
            {
                Finish();
                words.Add(s);
            }
            else current.Append(s);
        }
        Finish();
        return words;
    }

    private static bool IsChinese(int cp) =>
        (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF)
        || (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}
