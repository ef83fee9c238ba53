using System.Globalization;
using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>Tokens inside {{ }} and {% %}: names, strings, numbers, operators (jinja2/lexer.py "root" tag rules).</summary>
internal sealed partial class Lexer
{
    // Longest first so "//" wins over "/", "**" over "*".
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "[", "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";"];

    private int LexTag(int tag, int afterOpen, bool isBlock)
    {
        Emit(isBlock ? TokenKind.BlockBegin : TokenKind.VariableBegin, isBlock ? "{%" : "{{", tag);
        int p = afterOpen;
        int depth = 0; // brackets open; a closing delimiter only counts at depth 0 (Jinja's balancing stack)
        string close = isBlock ? "%}" : "}}";
        while (true)
        {
            while (p < _src.Length && char.IsWhiteSpace(_src[p])) p++;
            if (p >= _src.Length) throw Error($"unexpected end of template: missing '{close}' for the tag opened here", tag);
            if (depth == 0)
            {
                char m = _src[p];
                if (m is '-' or '+' && string.CompareOrdinal(_src, p + 1, close, 0, 2) == 0 && (isBlock || m == '-'))
                {
                    Emit(isBlock ? TokenKind.BlockEnd : TokenKind.VariableEnd, close, p);
                    return AfterClose(p + 3, m, trimBlocks: isBlock);
                }
                if (string.CompareOrdinal(_src, p, close, 0, 2) == 0)
                {
                    Emit(isBlock ? TokenKind.BlockEnd : TokenKind.VariableEnd, close, p);
                    return AfterClose(p + 2, '\0', trimBlocks: isBlock);
                }
            }
            char c = _src[p];
            if (char.IsLetter(c) || c == '_')
            {
                int s = p;
                while (p < _src.Length && (char.IsLetterOrDigit(_src[p]) || _src[p] == '_')) p++;
                Emit(TokenKind.Name, _src[s..p], s);
            }
            else if (c is '\'' or '"')
            {
                p = LexString(p);
            }
            else if (char.IsAsciiDigit(c))
            {
                p = LexNumber(p);
            }
            else
            {
                string? op = null;
                foreach (string candidate in Operators)
                    if (string.CompareOrdinal(_src, p, candidate, 0, candidate.Length) == 0) { op = candidate; break; }
                if (op is null) throw Error($"unexpected character '{c}' inside a tag", p);
                if (op is "(" or "[" or "{") depth++;
                else if (op is ")" or "]" or "}")
                {
                    if (depth == 0) throw Error($"unexpected '{op}'", p);
                    depth--;
                }
                Emit(TokenKind.Operator, op, p);
                p += op.Length;
            }
        }
    }

    /// <summary>String literal with Python escapes (Jinja decodes them with the unicode-escape codec).</summary>
    private int LexString(int start)
    {
        char quote = _src[start];
        var sb = new StringBuilder();
        int p = start + 1;
        while (true)
        {
            if (p >= _src.Length) throw Error("unterminated string literal", start);
            char c = _src[p];
            if (c == quote) break;
            if (c != '\\') { sb.Append(c); p++; continue; }
            if (p + 1 >= _src.Length) throw Error("unterminated string literal", start);
            char e = _src[p + 1];
            p += 2;
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '\n': break; // backslash-newline continues the line
                case '0' or '1' or '2' or '3' or '4' or '5' or '6' or '7':
                {
                    int value = e - '0', n = 1;
                    while (n < 3 && p < _src.Length && _src[p] is >= '0' and <= '7') { value = value * 8 + (_src[p] - '0'); p++; n++; }
                    sb.Append((char)value);
                    break;
                }
                case 'x': p = AppendHexEscape(sb, p, 2, start); break;
                case 'u': p = AppendHexEscape(sb, p, 4, start); break;
                case 'U': p = AppendHexEscape(sb, p, 8, start); break;
                default: sb.Append('\\').Append(e); break; // unknown escapes stay as written, like Python
            }
        }
        Emit(TokenKind.String, sb.ToString(), start);
        return p + 1;
    }

    private int AppendHexEscape(StringBuilder sb, int p, int digits, int start)
    {
        if (p + digits > _src.Length || !int.TryParse(_src.AsSpan(p, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
            throw Error("truncated \\x/\\u escape in string literal", start);
        sb.Append(char.ConvertFromUtf32(code));
        return p + digits;
    }

    private int LexNumber(int start)
    {
        int p = start;
        static bool DigitOrSep(char ch) => char.IsAsciiDigit(ch) || ch == '_';
        while (p < _src.Length && DigitOrSep(_src[p])) p++;
        bool isFloat = false;
        // After a '.', digits are an attribute index (x.0), not a float (Jinja's (?<!\.) lookbehind).
        bool afterDot = _tokens.Count > 0 && _tokens[^1].IsOperator(".");
        if (!afterDot && p + 1 < _src.Length && _src[p] == '.' && char.IsAsciiDigit(_src[p + 1]))
        {
            isFloat = true;
            p++;
            while (p < _src.Length && DigitOrSep(_src[p])) p++;
        }
        if (!afterDot && p < _src.Length && _src[p] is 'e' or 'E')
        {
            int q = p + 1;
            if (q < _src.Length && _src[q] is '+' or '-') q++;
            if (q < _src.Length && char.IsAsciiDigit(_src[q]))
            {
                isFloat = true;
                p = q;
                while (p < _src.Length && DigitOrSep(_src[p])) p++;
            }
        }
        string text = _src[start..p].Replace("_", "");
        if (isFloat)
            Emit(TokenKind.Float, text, start, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
        else if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long l))
            Emit(TokenKind.Integer, text, start, l);
        else
            throw Error($"integer literal {text} is too large", start);
        return p;
    }
}
