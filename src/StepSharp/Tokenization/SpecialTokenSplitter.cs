namespace StepSharp.Tokenization;

/// <summary>A piece of the input: either a special token already recognised, or raw text still to tokenize.</summary>
internal readonly record struct Fragment(int Token, int Start, int Length)
{
    public bool IsToken => Token >= 0;
}

/// <summary>
/// Cuts special tokens out of the text before the model tokenizer runs (llama.cpp
/// tokenizer_st_partition): each special token, longest first, is searched in every remaining raw-text
/// fragment. Control and unknown tokens take part only when parseSpecial; user-defined tokens always do.
/// Tokens with the lstrip/rstrip attribute also swallow the ASCII whitespace beside them.
/// </summary>
internal static class SpecialTokenSplitter
{
    public static List<Fragment> Split(Vocabulary vocab, string text, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0) return fragments;
        fragments.Add(new Fragment(-1, 0, text.Length));
        foreach (int id in vocab.SpecialTokensLongestFirst)
        {
            var attr = vocab.Attributes[id];
            if (!parseSpecial && (attr & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0) continue;
            string special = vocab.Texts[id];
            for (int f = 0; f < fragments.Count; f++)
            {
                var frag = fragments[f];
                if (frag.IsToken) continue;
                int match = text.IndexOf(special, frag.Start, frag.Length, StringComparison.Ordinal);
                if (match < 0) continue;
                // Replace this fragment by: left text, the token, and the right text (searched again next).
                int leftLen = match - frag.Start;
                if ((attr & TokenAttributes.LStrip) != 0)
                    while (leftLen > 0 && IsCSpace(text[frag.Start + leftLen - 1])) leftLen--;
                int rightStart = match + special.Length, rightEnd = frag.Start + frag.Length;
                if ((attr & TokenAttributes.RStrip) != 0)
                    while (rightStart < rightEnd && IsCSpace(text[rightStart])) rightStart++;
                fragments.RemoveAt(f);
                int insert = f;
                if (leftLen > 0) fragments.Insert(insert++, new Fragment(-1, frag.Start, leftLen));
                fragments.Insert(insert++, new Fragment(id, match, special.Length));
                if (rightStart < rightEnd) fragments.Insert(insert, new Fragment(-1, rightStart, rightEnd - rightStart));
                f = insert - 1; // the loop's f++ lands on the right remainder
            }
        }
        return fragments;
    }

    /// <summary>C isspace() in the "C" locale.</summary>
    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
