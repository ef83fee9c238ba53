namespace StepSharp.Chat.Parsing;

/// <summary>
/// Reads a Step 3.5 function tag at a <c>&lt;function</c> occurrence (testdata README rule 2.1/2.2, spec §6.3):
/// <c>&lt;function=NAME&gt;</c>, repaired <c>&lt;function=NAME\n</c> (missing <c>&gt;</c>), and, only for declared
/// tools, <c>&lt;function NAME&gt;</c> / <c>&lt;functionNAME&gt;</c>. Names may be quoted.
/// </summary>
internal static class Step35FunctionTag
{
    public const string Open = "<function";
    private const int MaxNameLength = 256;

    public enum Status { Accept, Reject, NeedMore }

    /// <param name="text">Text holding the tag.</param>
    /// <param name="at">Index of <c>&lt;function</c> in <paramref name="text"/>.</param>
    /// <param name="requireDeclared">Bare functions (outside <c>&lt;tool_call&gt;</c>) are calls only for declared tools.</param>
    /// <param name="final">No more text will come: an unfinished tag is rejected rather than awaited.</param>
    /// <param name="length">On accept, the tag length from <paramref name="at"/> (including the newline of a repaired tag).</param>
    public static Status Read(ReadOnlySpan<char> text, int at, bool requireDeclared, bool final, ToolSchemaSet tools,
        out string name, out int length)
    {
        name = "";
        length = 0;
        int k = at + Open.Length;
        Status wait = final ? Status.Reject : Status.NeedMore;
        if (k >= text.Length) return wait;

        bool withEquals = text[k] == '=';
        // Misspelled forms are only trusted when they name a declared tool.
        bool declaredOnly = requireDeclared || !withEquals;
        if (declaredOnly && tools.Count == 0) return Status.Reject;
        int start = withEquals ? k + 1 : k;
        int maxLength = declaredOnly ? tools.MaxNameLength + 8 : MaxNameLength;

        int end = start;
        for (; end < text.Length; end++)
        {
            char c = text[end];
            if (c == '>') break;
            if (c == '\n')
            {
                if (withEquals) break; // "<function=NAME\n": missing '>' repaired
                return Status.Reject;
            }
            if (c == '<' || end - start > maxLength) return Status.Reject;
        }
        if (end == text.Length)
        {
            if (declaredOnly && !tools.IsNamePrefix(Clean(text[start..]))) return Status.Reject;
            return wait;
        }

        string candidate = Clean(text[start..end]).ToString();
        if (candidate.Length == 0) return Status.Reject;
        if (declaredOnly && !tools.IsDeclared(candidate)) return Status.Reject;
        name = candidate;
        length = end + 1 - at;
        return Status.Accept;
    }

    /// <summary>Trims whitespace and one pair of surrounding quotes.</summary>
    private static ReadOnlySpan<char> Clean(ReadOnlySpan<char> raw)
    {
        ReadOnlySpan<char> s = raw.Trim();
        if (s.Length > 0 && s[0] is '"' or '\'') s = s[1..];
        if (s.Length > 0 && s[^1] is '"' or '\'') s = s[..^1];
        return s.Trim();
    }
}
