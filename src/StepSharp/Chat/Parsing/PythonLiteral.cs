using System.Globalization;
using System.Text;

namespace StepSharp.Chat.Parsing;

/// <summary>
/// Reads a Python literal (what <c>ast.literal_eval</c> accepts for containers: dicts, lists, tuples,
/// quoted strings, numbers, <c>True</c>/<c>False</c>/<c>None</c>) and writes it as JSON. vLLM falls back to this
/// when an object/array parameter is not valid JSON (spec §6.3 step 4). Tuples become arrays; dict keys
/// must be strings or numbers (numbers become their text). Returns null when the text is not a literal.
/// </summary>
internal static class PythonLiteral
{
    private const int MaxDepth = 64;

    public static string? TryToJson(string text)
    {
        var reader = new Reader(text);
        var sb = new StringBuilder(text.Length + 8);
        reader.SkipSpace();
        if (!reader.Value(sb, 0)) return null;
        reader.SkipSpace();
        return reader.AtEnd ? sb.ToString() : null;
    }

    private ref struct Reader(string text)
    {
        private readonly string _t = text;
        private int _i;

        public readonly bool AtEnd => _i >= _t.Length;

        public void SkipSpace()
        {
            while (_i < _t.Length && char.IsWhiteSpace(_t[_i])) _i++;
        }

        public bool Value(StringBuilder sb, int depth)
        {
            if (depth > MaxDepth || AtEnd) return false;
            char c = _t[_i];
            switch (c)
            {
                case '{': return Sequence(sb, depth, '}', isDict: true);
                case '[': return Sequence(sb, depth, ']', isDict: false);
                case '(': return Sequence(sb, depth, ')', isDict: false);
                case '\'' or '"': return String(sb);
            }
            if (Word("True")) { sb.Append("true"); return true; }
            if (Word("False")) { sb.Append("false"); return true; }
            if (Word("None")) { sb.Append("null"); return true; }
            return Number(sb);
        }

        private bool Sequence(StringBuilder sb, int depth, char close, bool isDict)
        {
            _i++; // opening bracket
            sb.Append(isDict ? '{' : '[');
            bool first = true;
            while (true)
            {
                SkipSpace();
                if (AtEnd) return false;
                if (_t[_i] == close) { _i++; break; }
                if (!first)
                {
                    if (_t[_i] != ',') return false;
                    _i++;
                    SkipSpace();
                    if (AtEnd) return false;
                    if (_t[_i] == close) { _i++; break; } // trailing comma
                    sb.Append(", ");
                }
                first = false;
                if (isDict)
                {
                    if (!Key(sb)) return false;
                    SkipSpace();
                    if (AtEnd || _t[_i] != ':') return false;
                    _i++;
                    SkipSpace();
                    sb.Append(": ");
                }
                if (!Value(sb, depth + 1)) return false;
            }
            sb.Append(isDict ? '}' : ']');
            return true;
        }

        private bool Key(StringBuilder sb)
        {
            if (_t[_i] is '\'' or '"') return String(sb);
            var number = new StringBuilder();
            if (!Number(number)) return false;
            sb.Append('"').Append(number).Append('"');
            return true;
        }

        private bool Word(string word)
        {
            if (string.CompareOrdinal(_t, _i, word, 0, word.Length) != 0) return false;
            int end = _i + word.Length;
            if (end < _t.Length && (char.IsLetterOrDigit(_t[end]) || _t[end] == '_')) return false;
            _i = end;
            return true;
        }

        private bool Number(StringBuilder sb)
        {
            int start = _i;
            while (_i < _t.Length && (char.IsAsciiDigit(_t[_i]) || _t[_i] is '+' or '-' or '.' or 'e' or 'E' or '_')) _i++;
            ReadOnlySpan<char> s = _t.AsSpan(start, _i - start);
            if (s.Length == 0) return false;
            string digits = s.ToString().Replace("_", "", StringComparison.Ordinal);
            if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
            {
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                return true;
            }
            if (double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d))
            {
                sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
                return true;
            }
            return false;
        }

        private bool String(StringBuilder sb)
        {
            char quote = _t[_i++];
            var value = new StringBuilder();
            while (true)
            {
                if (AtEnd) return false;
                char c = _t[_i++];
                if (c == quote) break;
                if (c == '\n') return false; // single-quoted Python strings cannot span lines
                if (c != '\\') { value.Append(c); continue; }
                if (AtEnd) return false;
                char e = _t[_i++];
                switch (e)
                {
                    case 'n': value.Append('\n'); break;
                    case 't': value.Append('\t'); break;
                    case 'r': value.Append('\r'); break;
                    case '0': value.Append('\0'); break;
                    case 'x' when Hex(2, out int x): value.Append((char)x); break;
                    case 'u' when Hex(4, out int u): value.Append((char)u); break;
                    case '\\' or '\'' or '"': value.Append(e); break;
                    case '\n': break; // line continuation
                    default: value.Append('\\').Append(e); break; // Python keeps unknown escapes verbatim
                }
            }
            sb.Append('"');
            JsonText.AppendEscaped(sb, value.ToString());
            sb.Append('"');
            return true;
        }

        private bool Hex(int count, out int value)
        {
            value = 0;
            if (_i + count > _t.Length) return false;
            if (!int.TryParse(_t.AsSpan(_i, count), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)) return false;
            _i += count;
            return true;
        }
    }
}
