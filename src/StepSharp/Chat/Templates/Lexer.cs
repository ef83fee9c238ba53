using System.Globalization;
using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>
/// Splits template source into tokens the way Jinja2's lexer does with transformers' settings:
/// trim_blocks (drop the first newline after a block or comment tag), lstrip_blocks (drop spaces/tabs
/// before a block or comment tag that starts its line), '-' strips all whitespace on that side of a tag,
/// '+' disables lstrip/trim for that side, newlines normalised to \n, one trailing newline dropped
/// (keep_trailing_newline=False). See jinja2/lexer.py (Lexer.tokeniter, the OptionalLStrip rule).
/// </summary>
internal sealed partial class Lexer
{
    private readonly string _src;
    private readonly string _name;
    private readonly List<Token> _tokens = new();
    private readonly int[] _lineStarts;
    private int _pos;
    private bool _lineStarting; // Jinja's line_starting: did the previous match end with a newline?

    private Lexer(string source, string name)
    {
        _src = Normalize(source);
        _name = name;
        var starts = new List<int> { 0 };
        for (int i = 0; i < _src.Length; i++)
            if (_src[i] == '\n') starts.Add(i + 1);
        _lineStarts = starts.ToArray();
    }

    public static List<Token> Tokenize(string source, string name)
    {
        var lexer = new Lexer(source, name);
        lexer.Run();
        return lexer._tokens;
    }

    /// <summary>\r\n and \r become \n; a single final newline is removed (keep_trailing_newline=False).</summary>
    private static string Normalize(string source)
    {
        string s = source.Contains('\r') ? source.Replace("\r\n", "\n").Replace('\r', '\n') : source;
        return s.EndsWith('\n') ? s[..^1] : s;
    }

    private (int Line, int Column) Location(int pos)
    {
        int idx = Array.BinarySearch(_lineStarts, pos);
        if (idx < 0) idx = ~idx - 1;
        return (idx + 1, pos - _lineStarts[idx] + 1);
    }

    private TemplateSyntaxException Error(string message, int pos)
    {
        var (line, col) = Location(pos);
        return new TemplateSyntaxException(message, _name, line, col);
    }

    private void Emit(TokenKind kind, string value, int pos, object? literal = null)
    {
        var (line, col) = Location(pos);
        _tokens.Add(new Token(kind, value, line, col, literal));
    }

    private void Run()
    {
        _lineStarting = true;
        while (_pos < _src.Length)
        {
            int tag = FindTagStart(_pos);
            if (tag < 0)
            {
                Emit(TokenKind.Data, _src[_pos..], _pos);
                break;
            }
            char kind = _src[tag + 1];
            char modifier = tag + 2 < _src.Length ? _src[tag + 2] : '\0';
            string text = _src[_pos..tag];
            if (modifier == '-')
            {
                text = text.TrimEnd();
            }
            else if (modifier != '+' && kind != '{')
            {
                text = LStrip(text);
            }
            if (text.Length > 0) Emit(TokenKind.Data, text, _pos);

            int afterOpen = tag + 2 + (modifier is '-' or '+' ? 1 : 0);
            int end = kind switch
            {
                '#' => LexComment(tag, afterOpen),
                '%' => TryLexRaw(tag, afterOpen) ?? LexTag(tag, afterOpen, isBlock: true),
                _ => LexTag(tag, afterOpen, isBlock: false),
            };
            _lineStarting = end > 0 && _src[end - 1] == '\n';
            _pos = end;
        }
        Emit(TokenKind.End, "", _src.Length);
    }

    /// <summary>
    /// lstrip_blocks: whitespace between the start of the line and a block/comment tag is removed, if the
    /// tag really starts its line (text before it contains a newline, or the previous tag ended with one).
    /// </summary>
    private string LStrip(string text)
    {
        int lineStart = text.LastIndexOf('\n') + 1;
        if (lineStart == 0 && !_lineStarting) return text;
        for (int i = lineStart; i < text.Length; i++)
            if (!char.IsWhiteSpace(text[i])) return text;
        return text[..lineStart];
    }

    private int FindTagStart(int from)
    {
        while (true)
        {
            int i = _src.IndexOf('{', from);
            if (i < 0 || i + 1 >= _src.Length) return -1;
            char c = _src[i + 1];
            if (c is '{' or '%' or '#') return i;
            from = i + 1;
        }
    }

    /// <summary>Consumes what follows a closing delimiter: '-' eats all whitespace, a plain block/comment end eats one newline.</summary>
    private int AfterClose(int closeEnd, char modifier, bool trimBlocks)
    {
        int p = closeEnd;
        if (modifier == '-')
        {
            while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
        }
        else if (modifier != '+' && trimBlocks && p < _src.Length && _src[p] == '\n')
        {
            p++;
        }
        return p;
    }

    private int LexComment(int tag, int afterOpen)
    {
        int close = _src.IndexOf("#}", afterOpen, StringComparison.Ordinal);
        if (close < 0) throw Error("unclosed comment (missing '#}')", tag);
        char modifier = close > afterOpen && _src[close - 1] is '-' or '+' ? _src[close - 1] : '\0';
        return AfterClose(close + 2, modifier, trimBlocks: true);
    }

    /// <summary>{% raw %}...{% endraw %}: the body is emitted as text, untouched.</summary>
    private int? TryLexRaw(int tag, int afterOpen)
    {
        int p = SkipSpaces(afterOpen);
        if (string.CompareOrdinal(_src, p, "raw", 0, 3) != 0) return null;
        p = SkipSpaces(p + 3);
        char openModifier = p < _src.Length && _src[p] is '-' or '+' ? _src[p] : '\0';
        if (openModifier != '\0') p++;
        if (string.CompareOrdinal(_src, p, "%}", 0, 2) != 0) return null;
        // Jinja's raw_begin rule accepts "-%}" (strip) or "%}" and, unlike other blocks, never trims a newline.
        int bodyStart = AfterClose(p + 2, openModifier, trimBlocks: false);
        _lineStarting = bodyStart > 0 && _src[bodyStart - 1] == '\n';

        int search = bodyStart;
        while (true)
        {
            int open = _src.IndexOf("{%", search, StringComparison.Ordinal);
            if (open < 0) throw Error("missing {% endraw %} for {% raw %}", tag);
            int q = open + 2;
            char endOpenModifier = q < _src.Length && _src[q] is '-' or '+' ? _src[q] : '\0';
            if (endOpenModifier != '\0') q++;
            q = SkipSpaces(q);
            if (string.CompareOrdinal(_src, q, "endraw", 0, 6) == 0)
            {
                q = SkipSpaces(q + 6);
                char closeModifier = q < _src.Length && _src[q] is '-' or '+' ? _src[q] : '\0';
                if (closeModifier != '\0') q++;
                if (string.CompareOrdinal(_src, q, "%}", 0, 2) == 0)
                {
                    string body = _src[bodyStart..open];
                    if (endOpenModifier == '-') body = body.TrimEnd();
                    else if (endOpenModifier != '+') body = LStrip(body);
                    if (body.Length > 0) Emit(TokenKind.Data, body, bodyStart);
                    return AfterClose(q + 2, closeModifier, trimBlocks: true);
                }
            }
            search = open + 2;
        }
    }

    private int SkipSpaces(int p)
    {
        while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
        return p;
    }
}
