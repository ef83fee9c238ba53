using System.Text;
using System.Text.RegularExpressions;

namespace StepSharp.Tokenization;

/// <summary>
/// Splits text into words the way llama.cpp's unicode_regex_split does (src/unicode.cpp), so that the
/// BPE merges see exactly the same words:
/// <list type="bullet">
/// <item>the regexes run one after another, each only inside the pieces left by the previous one
/// (text between matches is kept as a piece of its own);</item>
/// <item>the GPT-2 and Llama-3 patterns use hand-written matchers (as llama.cpp does), see
/// <see cref="CustomSplitters"/>;</item>
/// <item>a pattern with \p{..} classes runs on a "collapsed" text in which every non-ASCII code point is
/// replaced by one stand-in character per category (letter, number, ...; whitespace → '\v'), with each
/// \p{X} rewritten to "stand-in + ASCII members" — llama.cpp does this because std::regex has no
/// Unicode classes, and it changes results (e.g. \p{Lu} and \p{Ll} become the same class), so we copy it;</item>
/// <item>any other pattern runs on the code points themselves (llama.cpp's std::wregex), with non-ASCII
/// whitespace replaced by '\v'.</item>
/// </list>
/// The .NET regexes use <see cref="RegexOptions.ECMAScript"/> so that \s, \d, \w have std::regex's ASCII meaning.
/// </summary>
internal sealed class RegexPreTokenizer
{
    private static readonly string[] CategoryNames = ["\\p{N}", "\\p{L}", "\\p{P}", "\\p{M}", "\\p{S}", "\\p{Lu}", "\\p{Ll}", "\\p{Lt}", "\\p{Lm}", "\\p{Lo}"];

    private readonly Step[] _steps;

    private enum StepKind { Gpt2, Llama3, Collapsed, Codepoints }

    private sealed record Step(StepKind Kind, Regex? Regex, string Source);

    /// <param name="patterns">Patterns in llama.cpp's spelling (as in llama-vocab.cpp / tokenizer.json).</param>
    public RegexPreTokenizer(IReadOnlyList<string> patterns)
    {
        _steps = new Step[patterns.Count];
        for (int i = 0; i < patterns.Count; i++) _steps[i] = Compile(patterns[i]);
    }

    private static Step Compile(string pattern)
    {
        if (pattern == CustomSplitters.Gpt2Pattern) return new Step(StepKind.Gpt2, null, pattern);
        if (CustomSplitters.IsLlama3Pattern(pattern)) return new Step(StepKind.Llama3, null, pattern);
        bool collapsed = false;
        foreach (var name in CategoryNames) collapsed |= pattern.Contains(name, StringComparison.Ordinal);
        string dotnet = collapsed ? CollapsePattern(pattern) : CodepointPattern(pattern);
        Regex regex;
        try
        {
            regex = new Regex(dotnet, RegexOptions.ECMAScript);
        }
        catch (ArgumentException)
        {
            // Constructs such as atomic groups or (?i:...) are not accepted in ECMAScript mode; the
            // pattern texts here are ASCII-only (collapsed) or use explicit classes, so the default
            // engine gives the same matches apart from \d/\w, which such patterns do not rely on.
            try { regex = new Regex(dotnet, RegexOptions.CultureInvariant); }
            catch (ArgumentException e)
            {
                throw new NotSupportedException($"pre-tokenizer regex '{pattern}' cannot be compiled for .NET: {e.Message}", e);
            }
        }
        return new Step(collapsed ? StepKind.Collapsed : StepKind.Codepoints, regex, pattern);
    }

    /// <summary>Splits code points into words; returns the word lengths in code points.</summary>
    public List<int> Split(int[] cps)
    {
        var offsets = new List<int>();
        if (cps.Length == 0) return offsets;
        offsets.Add(cps.Length);
        string? collapsedText = null;
        foreach (var step in _steps)
        {
            var next = new List<int>(offsets.Count * 2);
            int start = 0;
            foreach (int len in offsets)
            {
                switch (step.Kind)
                {
                    case StepKind.Gpt2: CustomSplitters.SplitGpt2(cps, start, len, next); break;
                    case StepKind.Llama3: CustomSplitters.SplitLlama3(cps, start, len, next); break;
                    case StepKind.Collapsed:
                        collapsedText ??= Collapse(cps);
                        SplitByRegex(step.Regex!, collapsedText.Substring(start, len), null, next);
                        break;
                    default:
                        var (text, map) = CodepointText(cps, start, len);
                        SplitByRegex(step.Regex!, text, map, next);
                        break;
                }
                start += len;
            }
            offsets = next;
        }
        return offsets;
    }

    /// <summary>std::regex_iterator splitting: each match is a piece and so is each gap between matches.</summary>
    /// <param name="utf16ToCp">Code point index of each UTF-16 position (plus the end), or null when 1:1.</param>
    private static void SplitByRegex(Regex regex, string piece, int[]? utf16ToCp, List<int> output)
    {
        int Cp(int i) => utf16ToCp is null ? i : utf16ToCp[i];
        int last = 0;
        for (var m = regex.Match(piece); m.Success; m = m.NextMatch())
        {
            if (m.Index > last) output.Add(Cp(m.Index) - Cp(last));
            if (m.Length > 0) output.Add(Cp(m.Index + m.Length) - Cp(m.Index));
            last = m.Index + m.Length;
        }
        if (last < piece.Length) output.Add(Cp(piece.Length) - Cp(last));
    }

    /// <summary>llama.cpp's collapsed text: ASCII kept, every other code point → its category stand-in.</summary>
    private static string Collapse(int[] cps)
    {
        var chars = new char[cps.Length];
        for (int i = 0; i < cps.Length; i++)
        {
            int cp = cps[i];
            if (cp < 128) { chars[i] = (char)cp; continue; }
            var flags = Codepoints.Flags(cp);
            chars[i] = (flags & CodepointFlags.Whitespace) != 0 ? '\v' : StandIn(flags & CodepointFlags.CategoryMask);
        }
        return new string(chars);
    }

    private static char StandIn(CodepointFlags category) => category switch
    {
        CodepointFlags.Number => '\u00D1',
        CodepointFlags.Letter => '\u00D2',
        CodepointFlags.Punctuation => '\u00D3',
        CodepointFlags.AccentMark => '\u00D4',
        CodepointFlags.Symbol => '\u00D5',
        _ => '\u00D0',
    };

    private static string ClassMembers(string category) => category switch
    {
        "N" => "\\u00D10-9",
        "P" => "\\u00D3!-#%-*,-/:-;?-@\\[-\\]_\\{\\}",
        "M" => "\\u00D4",
        "S" => "\\u00D5\\$\\+<->\\^`\\|",
        _ => "\\u00D2A-Za-z", // L, Lu, Ll, Lt, Lm, Lo all collapse to "letter"
    };

    /// <summary>Rewrites \p{X} into the collapsed class, as llama.cpp builds regex_expr_collapsed.</summary>
    private static string CollapsePattern(string pattern)
    {
        foreach (char c in pattern)
            if (c >= 128)
                throw new NotSupportedException($"pre-tokenizer regex '{pattern}' mixes Unicode classes with non-ASCII characters (llama.cpp rejects this too)");
        var sb = new StringBuilder();
        bool inside = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '[' && (i == 0 || pattern[i - 1] != '\\')) { sb.Append('['); inside = true; continue; }
            if (inside && c == ']' && pattern[i - 1] != '\\') { sb.Append(']'); inside = false; continue; }
            if (c == '\\' && i + 3 < pattern.Length && pattern[i + 1] == 'p' && pattern[i + 2] == '{')
            {
                int close = pattern.IndexOf('}', i + 3);
                if (close > 0 && close <= i + 10)
                {
                    string name = pattern.Substring(i, close - i + 1);
                    if (Array.IndexOf(CategoryNames, name) >= 0)
                    {
                        string members = ClassMembers(name[3..^1]);
                        sb.Append(inside ? members : "[" + members + "]");
                        i = close;
                        continue;
                    }
                }
            }
            if (c == '$' && !inside && (i == 0 || pattern[i - 1] != '\\')) { sb.Append("\\z"); continue; }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Code-point pattern for .NET's UTF-16 engine: character classes holding astral code points become
    /// alternations of surrogate-pair classes, and an unescaped '$' becomes \z (std::regex's '$' does not
    /// match before a final newline).
    /// </summary>
    private static string CodepointPattern(string pattern)
    {
        var cps = new List<int>();
        foreach (var r in pattern.EnumerateRunes()) cps.Add(r.Value);
        var sb = new StringBuilder();
        for (int i = 0; i < cps.Count; i++)
        {
            int c = cps[i];
            if (c == '\\' && i + 1 < cps.Count) { AppendCp(sb, c); AppendCp(sb, cps[++i]); continue; }
            if (c == '$') { sb.Append("\\z"); continue; }
            if (c != '[') { AppendCp(sb, c); continue; }
            int end = i + 1;
            if (end < cps.Count && cps[end] == '^') end++;
            if (end < cps.Count && cps[end] == ']') end++;
            while (end < cps.Count && cps[end] != ']') end += cps[end] == '\\' ? 2 : 1;
            AppendClass(sb, cps, i + 1, end);
            i = end;
        }
        return sb.ToString();
    }

    private static void AppendClass(StringBuilder sb, List<int> cps, int from, int to)
    {
        bool negated = from < to && cps[from] == '^';
        var bmp = new StringBuilder();
        var astral = new List<(int Lo, int Hi)>();
        for (int i = negated ? from + 1 : from; i < to; i++)
        {
            if (cps[i] == '\\' && i + 1 < to) { bmp.Append('\\'); AppendCp(bmp, cps[++i]); continue; }
            int lo = cps[i], hi = lo;
            if (i + 2 < to && cps[i + 1] == '-') { hi = cps[i + 2]; i += 2; }
            if (hi < 0x10000) { AppendEscaped(bmp, lo); if (hi != lo) { bmp.Append('-'); AppendEscaped(bmp, hi); } }
            else if (lo < 0x10000) { AppendEscaped(bmp, lo); bmp.Append("-\\uFFFF"); astral.Add((0x10000, hi)); }
            else astral.Add((lo, hi));
        }
        if (astral.Count == 0) { sb.Append('[').Append(negated ? "^" : "").Append(bmp).Append(']'); return; }
        if (negated) throw new NotSupportedException("negated character classes with astral code points are not supported");
        sb.Append("(?:");
        if (bmp.Length > 0) sb.Append('[').Append(bmp).Append("]|");
        foreach (var (lo, hi) in astral)
        {
            for (int h = lo; h <= hi;)
            {
                int blockEnd = Math.Min(hi, (h | 0x3FF));
                string s1 = char.ConvertFromUtf32(h), s2 = char.ConvertFromUtf32(blockEnd);
                sb.Append($"\\u{(int)s1[0]:X4}[\\u{(int)s1[1]:X4}-\\u{(int)s2[1]:X4}]|");
                h = blockEnd + 1;
            }
        }
        sb.Length--; // drop the last '|'
        sb.Append(')');
    }

    private static void AppendEscaped(StringBuilder sb, int cp)
    {
        if (cp < 128 && (char.IsLetterOrDigit((char)cp) || cp == ' ')) sb.Append((char)cp);
        else sb.Append($"\\u{cp:X4}");
    }

    private static void AppendCp(StringBuilder sb, int cp)
    {
        if (cp < 0x10000) sb.Append((char)cp); else sb.Append(char.ConvertFromUtf32(cp));
    }

    /// <summary>UTF-16 text of a piece (non-ASCII whitespace → '\v', as llama.cpp) and the UTF-16 → code point index map.</summary>
    private static (string Text, int[] Map) CodepointText(int[] cps, int start, int len)
    {
        var sb = new StringBuilder(len);
        var map = new List<int>(len + 1);
        for (int i = 0; i < len; i++)
        {
            int cp = cps[start + i];
            if (cp > 0x7F && Codepoints.IsWhitespace(cp)) cp = '\v';
            if (cp >= 0x10000 && cp <= 0x10FFFF) { sb.Append(char.ConvertFromUtf32(cp)); map.Add(i); map.Add(i); }
            else { sb.Append(cp is >= 0xD800 and <= 0xDFFF or > 0x10FFFF ? '\uFFFD' : (char)cp); map.Add(i); }
        }
        map.Add(len);
        return (sb.ToString(), map.ToArray());
    }
}
