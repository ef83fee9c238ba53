using System.Globalization;
using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>
/// Python's <c>json.dumps(value, ensure_ascii, indent, separators, sort_keys)</c>, which is what transformers
/// installs as the <c>tojson</c> filter (no HTML escaping, unlike Jinja's built-in tojson).
/// </summary>
internal sealed class PyJson
{
    private readonly bool _ensureAscii;
    private readonly string? _indent;
    private readonly string _itemSeparator;
    private readonly string _keySeparator;
    private readonly bool _sortKeys;

    public PyJson(bool ensureAscii, string? indent, string? itemSeparator, string? keySeparator, bool sortKeys)
    {
        _ensureAscii = ensureAscii;
        _indent = indent;
        // json.dumps: with an indent the default item separator drops its trailing space.
        _itemSeparator = itemSeparator ?? (indent is null ? ", " : ",");
        _keySeparator = keySeparator ?? ": ";
        _sortKeys = sortKeys;
    }

    public static string Dumps(object? value) => new PyJson(false, null, null, null, false).Serialize(value);

    public string Serialize(object? value)
    {
        var sb = new StringBuilder();
        Write(sb, value, 0);
        return sb.ToString();
    }

    private void Write(StringBuilder sb, object? value, int level)
    {
        switch (value)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FloatText(d)); break;
            case string s: WriteString(sb, s); break;
            case IReadOnlyList<object?> list: WriteList(sb, list, level); break;
            case PyDict dict: WriteDict(sb, dict, level); break;
            default:
                throw TemplateValueError.Type($"Object of type {PyOps.TypeName(value)} is not JSON serializable");
        }
    }

    private static string FloatText(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyRepr.Float(d);

    private void NewLine(StringBuilder sb, int level)
    {
        sb.Append('\n');
        for (int i = 0; i < level; i++) sb.Append(_indent);
    }

    private void WriteList(StringBuilder sb, IReadOnlyList<object?> list, int level)
    {
        if (list.Count == 0) { sb.Append("[]"); return; }
        sb.Append('[');
        if (_indent is not null) NewLine(sb, level + 1);
        for (int i = 0; i < list.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(_itemSeparator);
                if (_indent is not null) NewLine(sb, level + 1);
            }
            Write(sb, list[i], level + 1);
        }
        if (_indent is not null) NewLine(sb, level);
        sb.Append(']');
    }

    private void WriteDict(StringBuilder sb, PyDict dict, int level)
    {
        if (dict.Count == 0) { sb.Append("{}"); return; }
        IEnumerable<KeyValuePair<object, object?>> entries = dict;
        if (_sortKeys)
        {
            var sorted = new List<KeyValuePair<object, object?>>(dict);
            sorted.Sort((x, y) => PyOps.Compare(x.Key, y.Key));
            entries = sorted;
        }
        sb.Append('{');
        if (_indent is not null) NewLine(sb, level + 1);
        bool first = true;
        foreach (var kv in entries)
        {
            if (!first)
            {
                sb.Append(_itemSeparator);
                if (_indent is not null) NewLine(sb, level + 1);
            }
            first = false;
            WriteString(sb, KeyText(kv.Key));
            sb.Append(_keySeparator);
            Write(sb, kv.Value, level + 1);
        }
        if (_indent is not null) NewLine(sb, level);
        sb.Append('}');
    }

    /// <summary>json.dumps turns non-string keys into strings: True → "true", 1.5 → "1.5", None → "null".</summary>
    private static string KeyText(object key) => key switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatText(d),
        _ => throw TemplateValueError.Type($"keys must be str, int, float, bool or None, not {PyOps.TypeName(key)}"),
    };

    private void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
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
                    // ensure_ascii escapes every non-ASCII UTF-16 unit, so astral characters become surrogate pairs.
                    if (c < 0x20 || (_ensureAscii && c > 0x7e))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
