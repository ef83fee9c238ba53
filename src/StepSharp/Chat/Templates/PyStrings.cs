using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>Python str algorithms whose edge cases differ from .NET's (split, strip, title, center, format).</summary>
internal static class PyStrings
{
    public static bool HasSurrogates(string s)
    {
        foreach (char c in s)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>The characters of a Python str: one string per code point (a surrogate pair stays together).</summary>
    public static List<object?> CodePoints(string s)
    {
        var result = new List<object?>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(s.Substring(i, 2));
                i++;
            }
            else result.Add(s[i].ToString());
        }
        return result;
    }

    /// <summary>str.split: no separator splits on whitespace runs and drops empty pieces.</summary>
    public static List<object?> Split(string s, string? sep, int maxSplit)
    {
        var parts = new List<object?>();
        if (sep is null)
        {
            int i = 0;
            while (true)
            {
                while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
                if (i >= s.Length) break;
                if (maxSplit >= 0 && parts.Count == maxSplit) { parts.Add(s[i..].TrimEnd()); break; }
                int start = i;
                while (i < s.Length && !char.IsWhiteSpace(s[i])) i++;
                parts.Add(s[start..i]);
            }
            return parts;
        }
        if (sep.Length == 0) throw TemplateValueError.Value("empty separator");
        int from = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            int at = s.IndexOf(sep, from, StringComparison.Ordinal);
            if (at < 0) break;
            parts.Add(s[from..at]);
            from = at + sep.Length;
        }
        parts.Add(s[from..]);
        return parts;
    }

    public static List<object?> RSplit(string s, string? sep, int maxSplit)
    {
        if (maxSplit < 0) return Split(s, sep, maxSplit);
        if (sep is null)
        {
            var words = new List<object?>();
            int i = s.Length;
            while (true)
            {
                while (i > 0 && char.IsWhiteSpace(s[i - 1])) i--;
                if (i == 0) break;
                if (words.Count == maxSplit) { words.Add(s[..i].TrimStart()); break; }
                int end = i;
                while (i > 0 && !char.IsWhiteSpace(s[i - 1])) i--;
                words.Add(s[i..end]);
            }
            words.Reverse();
            return words;
        }
        if (sep.Length == 0) throw TemplateValueError.Value("empty separator");
        var parts = new List<object?>();
        int to = s.Length;
        while (parts.Count < maxSplit)
        {
            int at = to - sep.Length < 0 ? -1 : s.LastIndexOf(sep, to - 1, to, StringComparison.Ordinal);
            if (at < 0 || at + sep.Length > to) break;
            parts.Add(s[(at + sep.Length)..to]);
            to = at;
        }
        parts.Add(s[..to]);
        parts.Reverse();
        return parts;
    }

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        int start = 0, end = s.Length;
        bool Strippable(char c) => chars is null ? char.IsWhiteSpace(c) : chars.Contains(c);
        if (left) while (start < end && Strippable(s[start])) start++;
        if (right) while (end > start && Strippable(s[end - 1])) end--;
        return s[start..end];
    }

    /// <summary>Python str.title(): a letter is upper-cased when it follows a non-letter.</summary>
    public static string PythonTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (char c in s)
        {
            sb.Append(previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousCased = char.IsLetter(c);
        }
        return sb.ToString();
    }

    /// <summary>Jinja's title filter: capitalise each word, words start after whitespace, '-', or an opening bracket.</summary>
    public static string JinjaTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool wordStart = true;
        foreach (char c in s)
        {
            bool separator = char.IsWhiteSpace(c) || c is '-' or '(' or '{' or '[' or '<';
            sb.Append(separator ? c : wordStart ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            wordStart = separator;
        }
        return sb.ToString();
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    public static string Replace(string s, string old, string replacement, int count)
    {
        if (count < 0) return old.Length == 0 ? InsertEverywhere(s, replacement, int.MaxValue) : s.Replace(old, replacement, StringComparison.Ordinal);
        if (old.Length == 0) return InsertEverywhere(s, replacement, count);
        var sb = new StringBuilder();
        int from = 0;
        for (int n = 0; n < count; n++)
        {
            int at = s.IndexOf(old, from, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(s, from, at - from).Append(replacement);
            from = at + old.Length;
        }
        return sb.Append(s, from, s.Length - from).ToString();
    }

    private static string InsertEverywhere(string s, string insert, int count)
    {
        var sb = new StringBuilder();
        int n = 0;
        for (int i = 0; i <= s.Length; i++)
        {
            if (n < count) { sb.Append(insert); n++; }
            if (i < s.Length) sb.Append(s[i]);
        }
        return sb.ToString();
    }

    public static int Count(string s, string sub)
    {
        if (sub.Length == 0) return s.Length + 1;
        int n = 0, from = 0;
        while ((from = s.IndexOf(sub, from, StringComparison.Ordinal)) >= 0) { n++; from += sub.Length; }
        return n;
    }

    public static List<object?> SplitLines(string s)
    {
        var lines = new List<object?>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] is not ('\n' or '\r')) continue;
            lines.Add(s[start..i]);
            if (s[i] == '\r' && i + 1 < s.Length && s[i + 1] == '\n') i++;
            start = i + 1;
        }
        if (start < s.Length) lines.Add(s[start..]);
        return lines;
    }

    /// <summary>Python str.center: the odd padding character goes left when the width is odd.</summary>
    public static string Center(string s, int width, char fill = ' ')
    {
        if (s.Length >= width) return s;
        int margin = width - s.Length;
        int left = margin / 2 + (margin & width & 1);
        return new string(fill, left) + s + new string(fill, margin - left);
    }

    /// <summary>str.format with {}, {0} and {name} fields and {{ }} escapes; format specs are not supported.</summary>
    public static string Format(string s, CallArgs args)
    {
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '{' && i + 1 < s.Length && s[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < s.Length && s[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (c != '{') { sb.Append(c); continue; }
            int close = s.IndexOf('}', i);
            if (close < 0) throw TemplateValueError.Value("Single '{' encountered in format string");
            string field = s[(i + 1)..close];
            int colon = field.IndexOf(':');
            if (colon >= 0) field = field[..colon];
            object? value;
            if (field.Length == 0) value = args.Get(auto++, "\0");
            else if (int.TryParse(field, out int index)) value = args.Get(index, "\0");
            else value = args.Get(-1, field);
            if (ReferenceEquals(value, CallArgs.Missing)) throw new TemplateValueError("IndexError", $"Replacement index {field} out of range");
            PyRepr.AppendStr(sb, value);
            i = close;
        }
        return sb.ToString();
    }
}
