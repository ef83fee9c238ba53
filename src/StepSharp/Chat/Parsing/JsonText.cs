using System.Text;

namespace StepSharp.Chat.Parsing;

/// <summary>
/// Minimal JSON string escaping that works character by character, so a value escaped in pieces equals the
/// value escaped whole (streamed tool-call arguments depend on that). Non-ASCII text is kept as is, like
/// vLLM's <c>json.dumps(ensure_ascii=False)</c>.
/// </summary>
internal static class JsonText
{
    public static void AppendEscaped(StringBuilder sb, ReadOnlySpan<char> text)
    {
        foreach (char c in text)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
    }

    public static string Escaped(ReadOnlySpan<char> text)
    {
        var sb = new StringBuilder(text.Length + 8);
        AppendEscaped(sb, text);
        return sb.ToString();
    }

    public static string Quoted(ReadOnlySpan<char> text)
    {
        var sb = new StringBuilder(text.Length + 10);
        sb.Append('"');
        AppendEscaped(sb, text);
        sb.Append('"');
        return sb.ToString();
    }
}
