using System.Text.Json;

namespace StepSharp.Tokenization;

/// <summary>
/// Translates the "normalizer" and "pre_tokenizer" sections of a Hugging Face tokenizer.json into the
/// settings our llama.cpp-compatible pipeline understands, and rejects (with the section named) what it
/// cannot reproduce, rather than tokenizing differently without a word.
/// </summary>
internal static class HfPipelineReader
{
    /// <summary>What the pre-tokenizer section amounts to.</summary>
    public sealed record PreTokenization(bool ByteLevel, List<string> Regexes, bool Metaspace, bool PrependSpace);

    public static PreTokenization ReadPreTokenizer(JsonElement root, string source)
    {
        var result = new PreTokenization(false, [], false, false);
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null) return result;
        return Visit(pre, result, source);
    }

    private static PreTokenization Visit(JsonElement node, PreTokenization acc, string source)
    {
        string type = node.GetProperty("type").GetString() ?? "";
        switch (type)
        {
            case "Sequence":
                foreach (var child in node.GetProperty("pretokenizers").EnumerateArray()) acc = Visit(child, acc, source);
                return acc;
            case "ByteLevel":
                if (Bool(node, "add_prefix_space", false))
                    throw new NotSupportedException($"{source}: pre_tokenizer ByteLevel with add_prefix_space = true is not supported");
                // ByteLevel's own regex is GPT-2's (its trailing "|\s+" is what the GPT-2 matcher does anyway).
                if (Bool(node, "use_regex", true)) acc.Regexes.Add(CustomSplitters.Gpt2Pattern);
                return acc with { ByteLevel = true };
            case "Split":
            {
                string behavior = node.TryGetProperty("behavior", out var b) ? b.GetString() ?? "" : "Isolated";
                if (behavior != "Isolated" || Bool(node, "invert", false))
                    throw new NotSupportedException($"{source}: pre_tokenizer Split with behavior '{behavior}'/invert is not supported (only Isolated)");
                var pattern = node.GetProperty("pattern");
                if (pattern.TryGetProperty("Regex", out var regex)) acc.Regexes.Add(AdaptRegex(regex.GetString()!));
                else acc.Regexes.Add(System.Text.RegularExpressions.Regex.Escape(pattern.GetProperty("String").GetString()!));
                return acc;
            }
            case "Digits":
                acc.Regexes.Add(Bool(node, "individual_digits", false) ? "\\p{N}" : "\\p{N}+");
                return acc;
            case "Metaspace":
            {
                string scheme = node.TryGetProperty("prepend_scheme", out var s) ? s.GetString() ?? "always" : "always";
                bool prepend = scheme != "never" && Bool(node, "add_prefix_space", true);
                return acc with { Metaspace = true, PrependSpace = prepend };
            }
            default:
                throw new NotSupportedException($"{source}: pre_tokenizer type '{type}' is not supported");
        }
    }

    /// <summary>
    /// Rewrites constructs that llama.cpp rewrites too: case-insensitive contraction groups become explicit
    /// classes, and possessive quantifiers (?+ ++ *+) become greedy ones (llama-vocab.cpp does the same for
    /// bailingmoe; .NET has no possessive quantifiers).
    /// </summary>
    internal static string AdaptRegex(string pattern)
    {
        const string ciContractions = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
        pattern = pattern.Replace(ciContractions, "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])", StringComparison.Ordinal);
        var sb = new System.Text.StringBuilder(pattern.Length);
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length) { sb.Append(c).Append(pattern[++i]); continue; }
            if (c == '+' && i > 0 && IsQuantifierEnd(pattern, i - 1)) continue;
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>Whether position i ends a quantifier (?, +, *, or the '}' of {m,n} — not of \p{..}).</summary>
    private static bool IsQuantifierEnd(string s, int i)
    {
        if (IsEscaped(s, i)) return false;
        if (s[i] is '?' or '+' or '*') return i > 0 && s[i - 1] != '(' && !(s[i] == '?' && s[i - 1] == '(');
        if (s[i] != '}') return false;
        int open = s.LastIndexOf('{', i);
        return open > 0 && !(open >= 2 && s[open - 1] is 'p' or 'P' && s[open - 2] == '\\');
    }

    private static bool IsEscaped(string s, int i)
    {
        int backslashes = 0;
        for (int j = i - 1; j >= 0 && s[j] == '\\'; j--) backslashes++;
        return (backslashes & 1) == 1;
    }

    /// <summary>What the normalizer section asks for.</summary>
    public sealed record Normalization(bool Lowercase, bool SpaceToMetaspace, bool PrependMetaspace);

    public static Normalization ReadNormalizer(JsonElement root, string source)
    {
        var result = new Normalization(false, false, false);
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null) return result;
        return VisitNormalizer(n, result, source);
    }

    private static Normalization VisitNormalizer(JsonElement node, Normalization acc, string source)
    {
        string type = node.GetProperty("type").GetString() ?? "";
        switch (type)
        {
            case "Sequence":
                foreach (var child in node.GetProperty("normalizers").EnumerateArray()) acc = VisitNormalizer(child, acc, source);
                return acc;
            case "NFC":
                // Text is expected in NFC already; the project runs with InvariantGlobalization, where
                // string.Normalize cannot compose. llama.cpp does not normalise BPE input either.
                return acc;
            case "Lowercase": return acc with { Lowercase = true };
            case "Prepend" when node.GetProperty("prepend").GetString() == "\u2581": return acc with { PrependMetaspace = true };
            case "Replace" when ReplacesSpaceWithMetaspace(node): return acc with { SpaceToMetaspace = true };
            default:
                throw new NotSupportedException($"{source}: normalizer '{type}' is not supported");
        }
    }

    private static bool ReplacesSpaceWithMetaspace(JsonElement node) =>
        node.GetProperty("pattern").TryGetProperty("String", out var s) && s.GetString() == " "
        && node.GetProperty("content").GetString() == "\u2581";

    private static bool Bool(JsonElement node, string name, bool fallback) =>
        node.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;
}
