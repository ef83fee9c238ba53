namespace StepSharp.Tokenization;

/// <summary>
/// Hand-written matchers for the two most common pre-tokenizer patterns, with the exact behaviour of
/// llama.cpp's unicode_regex_split_custom_gpt2 / _llama3 (src/unicode.cpp). They are not plain regex
/// engines: a code point with no flags at all never occurs, but "out of range" positions (past the
/// piece) have empty flags, which is what ends runs and lookaheads at a piece boundary.
/// </summary>
internal static class CustomSplitters
{
    public const string Gpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

    private const string Llama3Original = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    public const string Llama3Pattern = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    public static bool IsLlama3Pattern(string pattern) => pattern == Llama3Pattern || pattern == Llama3Original;

    private const int OutOfRange = -1;

    /// <summary>View of one piece [start, end) of the code points.</summary>
    private readonly ref struct Piece(int[] cps, int start, int end)
    {
        public readonly int Start = start, End = end;
        public int Cp(int pos) => pos >= Start && pos < End ? cps[pos] : OutOfRange;
        public CodepointFlags Flags(int pos) => pos >= Start && pos < End ? Codepoints.Flags(cps[pos]) : CodepointFlags.None;
    }

    private static bool IsL(CodepointFlags f) => (f & CodepointFlags.Letter) != 0;
    private static bool IsN(CodepointFlags f) => (f & CodepointFlags.Number) != 0;
    private static bool IsWs(CodepointFlags f) => (f & CodepointFlags.Whitespace) != 0;
    private static bool IsOther(CodepointFlags f) => (f & (CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number)) == 0 && f != CodepointFlags.None;

    /// <summary>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</summary>
    public static void SplitGpt2(int[] cps, int start, int length, List<int> output)
    {
        var p = new Piece(cps, start, start + length);
        int prevEnd = start;
        int Add(int end) { int len = end - prevEnd; if (len > 0) output.Add(len); prevEnd = end; return len; }

        for (int pos = p.Start; pos < p.End;)
        {
            int cpt = p.Cp(pos);
            var flags = p.Flags(pos);
            if (cpt == '\'' && pos + 1 < p.End)
            {
                int next = p.Cp(pos + 1);
                if (next is 's' or 't' or 'm' or 'd') { pos += Add(pos + 2); continue; }
                if (pos + 2 < p.End)
                {
                    int next2 = p.Cp(pos + 2);
                    if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                    { pos += Add(pos + 3); continue; }
                }
            }
            var flags2 = cpt == ' ' ? p.Flags(pos + 1) : flags;
            if (IsL(flags2))
            {
                if (cpt == ' ') pos++;
                while (IsL(flags2)) flags2 = p.Flags(++pos);
                Add(pos); continue;
            }
            if (IsN(flags2))
            {
                if (cpt == ' ') pos++;
                while (IsN(flags2)) flags2 = p.Flags(++pos);
                Add(pos); continue;
            }
            if (IsOther(flags2))
            {
                if (cpt == ' ') pos++;
                while (IsOther(flags2)) flags2 = p.Flags(++pos);
                Add(pos); continue;
            }
            int ws = 0;
            while (IsWs(p.Flags(pos + ws))) ws++;
            if (ws > 1 && p.Cp(pos + ws) != OutOfRange) { pos += ws - 1; Add(pos); continue; }
            if (ws > 0) { pos += ws; Add(pos); continue; }
            Add(++pos);
        }
    }

    /// <summary>The Llama-3 pattern (see <see cref="Llama3Original"/>), contractions case-insensitive.</summary>
    public static void SplitLlama3(int[] cps, int start, int length, List<int> output)
    {
        var p = new Piece(cps, start, start + length);
        int prevEnd = start;
        int Add(int end) { int len = end - prevEnd; if (len > 0) output.Add(len); prevEnd = end; return len; }

        for (int pos = p.Start; pos < p.End;)
        {
            int cpt = p.Cp(pos);
            var flags = p.Flags(pos);
            if (cpt == '\'' && pos + 1 < p.End)
            {
                int next = Codepoints.ToLower(p.Cp(pos + 1));
                if (next is 's' or 't' or 'm' or 'd') { pos += Add(pos + 2); continue; }
                if (pos + 2 < p.End)
                {
                    int next2 = Codepoints.ToLower(p.Cp(pos + 2));
                    if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                    { pos += Add(pos + 3); continue; }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (!(cpt == '\r' || cpt == '\n' || IsN(flags)))
            {
                if (IsL(flags) || IsL(p.Flags(pos + 1)))
                {
                    pos++;
                    while (IsL(p.Flags(pos))) pos++;
                    Add(pos); continue;
                }
            }
            // \p{N}{1,3}
            if (IsN(flags))
            {
                int ini = pos;
                while (IsN(p.Flags(pos)))
                {
                    if (++pos - ini >= 3) { Add(pos); ini = pos; }
                }
                Add(pos); continue;
            }
            // <space>?[^\s\p{L}\p{N}]+[\r\n]*  (llama.cpp tests `flags` of the first code point here)
            var flags2 = cpt == ' ' ? p.Flags(pos + 1) : flags;
            if (IsOther(flags2) && flags != CodepointFlags.None)
            {
                if (cpt == ' ') pos++;
                while (IsOther(flags2)) flags2 = p.Flags(++pos);
                int c2 = p.Cp(pos);
                while (c2 == '\r' || c2 == '\n') c2 = p.Cp(++pos);
                Add(pos); continue;
            }
            int ws = 0, lastEndRn = 0;
            while (IsWs(p.Flags(pos + ws)))
            {
                int c2 = p.Cp(pos + ws);
                if (c2 == '\r' || c2 == '\n') lastEndRn = pos + ws + 1;
                ws++;
            }
            if (lastEndRn > 0) { pos = lastEndRn; Add(pos); continue; }
            if (ws > 1 && p.Cp(pos + ws) != OutOfRange) { pos += ws - 1; Add(pos); continue; }
            if (ws > 0) { pos += ws; Add(pos); continue; }
            Add(++pos);
        }
    }
}
