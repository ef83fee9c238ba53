namespace StepSharp.Chat.Parsing;

/// <summary>Tag search helpers shared by the streaming parsers.</summary>
internal static class TagScan
{
    /// <summary>Index of the earliest full occurrence of any tag (and which one), or -1.</summary>
    public static int IndexOfEarliest(ReadOnlySpan<char> text, ReadOnlySpan<string> tags, out int which)
    {
        int best = -1;
        which = -1;
        for (int t = 0; t < tags.Length; t++)
        {
            ReadOnlySpan<char> window = best < 0 ? text : text[..Math.Min(text.Length, best + tags[t].Length - 1)];
            int i = window.IndexOf(tags[t], StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best)) { best = i; which = t; }
        }
        return best;
    }

    /// <summary>
    /// Length of the longest suffix of <paramref name="text"/> that is a proper prefix of some tag: text
    /// that might still become a tag and so must be held back while streaming.
    /// </summary>
    public static int PartialSuffix(ReadOnlySpan<char> text, ReadOnlySpan<string> tags)
    {
        int longest = 0;
        foreach (string tag in tags)
        {
            for (int len = Math.Min(tag.Length - 1, text.Length); len > longest; len--)
            {
                if (text[^len..].SequenceEqual(tag.AsSpan(0, len))) { longest = len; break; }
            }
        }
        return longest;
    }
}
