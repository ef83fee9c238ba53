using System.Globalization;
using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>
/// Jinja2's built-in filters (jinja2/filters.py) with the same argument names and defaults, plus
/// transformers' tojson. Sequence filters (sort, map, select...) live in <see cref="SequenceFilters"/>.
/// </summary>
internal static class Filters
{
    private static readonly HashSet<string> Names =
    [
        "abs", "attr", "capitalize", "center", "count", "d", "default", "e", "escape", "first", "float", "format", "indent",
        "int", "items", "join", "last", "length", "list", "lower", "replace", "reverse", "round", "safe", "string",
        "title", "tojson", "trim", "truncate", "upper", "wordcount", "forceescape", "striptags",
        .. SequenceFilters.Names,
    ];

    public static bool Exists(string name) => Names.Contains(name);

    public static object? Apply(Interpreter interpreter, string name, object? value, CallArgs args)
    {
        switch (name)
        {
            case "abs":
                return value switch
                {
                    long l => (object)Math.Abs(l),
                    double d => Math.Abs(d),
                    bool b => b ? 1L : 0L,
                    _ => throw TemplateValueError.Type($"bad operand type for abs(): '{PyOps.TypeName(value)}'"),
                };
            case "attr": return ValueAccess.GetAttr(value, args.Get(0, "name") as string ?? "");
            case "capitalize": return PyStrings.Capitalize(PyRepr.Str(value));
            case "center": return PyStrings.Center(PyRepr.Str(value), Methods.ToInt(args.Get(0, "width", 80L)));
            case "count" or "length": return ValueAccess.Length(value);
            case "d" or "default":
            {
                object? fallback = args.Get(0, "default_value", "");
                bool boolean = PyOps.IsTrue(args.Get(1, "boolean", false));
                return value is Undefined || (boolean && !PyOps.IsTrue(value)) ? fallback : value;
            }
            case "e" or "escape" or "forceescape": return HtmlEscape(PyRepr.Str(value));
            case "first":
            {
                var items = ValueAccess.Iterate(value);
                return items.Count > 0 ? items[0] : new Undefined("No first item, sequence was empty.");
            }
            case "last":
            {
                var items = ValueAccess.Iterate(value);
                return items.Count > 0 ? items[^1] : new Undefined("No last item, sequence was empty.");
            }
            case "float": return ToFloat(value, args.Get(0, "default", 0.0));
            case "int": return ToInt(value, args.Get(0, "default", 0L), Methods.ToInt(args.Get(1, "base", 10L)));
            case "format":
            {
                string format = PyRepr.Str(value);
                if (args.Named.Count > 0)
                {
                    var mapping = new PyDict();
                    foreach (var kv in args.Named) mapping[kv.Key] = kv.Value;
                    return PyFormat.Percent(format, mapping);
                }
                return PyFormat.Percent(format, new PyTuple(args.Positional.ToArray()));
            }
            case "indent": return Indent(PyRepr.Str(value), args);
            case "items":
                if (value is Undefined) return new List<object?>();
                if (value is not PyDict dict) throw TemplateValueError.Type($"Can only get item pairs from a mapping, not {PyOps.TypeName(value)}");
                return Methods.Call(dict, "items", CallArgs.None);
            case "join": return SequenceFilters.Join(value, args);
            case "list": return ValueAccess.Iterate(value);
            case "lower": return PyRepr.Str(value).ToLowerInvariant();
            case "upper": return PyRepr.Str(value).ToUpperInvariant();
            case "replace":
            {
                string s = PyRepr.Str(value);
                object? count = args.Get(2, "count", null);
                return PyStrings.Replace(s, PyRepr.Str(args.Get(0, "old")), PyRepr.Str(args.Get(1, "new")), count is null ? -1 : Methods.ToInt(count));
            }
            case "reverse":
                if (value is string rs)
                {
                    var points = PyStrings.CodePoints(rs);
                    points.Reverse();
                    return string.Concat(points);
                }
                var reversed = ValueAccess.Iterate(value);
                reversed.Reverse();
                return reversed;
            case "round": return Round(value, args);
            case "safe" or "string": return PyRepr.Str(value);
            case "striptags": return string.Join(' ', PyStrings.Split(System.Text.RegularExpressions.Regex.Replace(PyRepr.Str(value), "<[^>]*>", ""), null, -1));
            case "title": return PyStrings.JinjaTitle(PyRepr.Str(value));
            case "tojson": return ToJson(value, args);
            case "trim": return PyStrings.Strip(PyRepr.Str(value), args.Get(0, "chars", null) as string, true, true);
            case "truncate": return Truncate(PyRepr.Str(value), args);
            case "wordcount": return (long)System.Text.RegularExpressions.Regex.Matches(PyRepr.Str(value), @"\w+").Count;
        }
        if (SequenceFilters.Names.Contains(name)) return SequenceFilters.Apply(interpreter, name, value, args);
        throw new TemplateValueError("TemplateAssertionError", $"No filter named '{name}'.");
    }

    /// <summary>transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).</summary>
    private static string ToJson(object? value, CallArgs args)
    {
        args.Check("tojson", "ensure_ascii", "indent", "separators", "sort_keys");
        bool ensureAscii = PyOps.IsTrue(args.Get(0, "ensure_ascii", false));
        string? indent = args.Get(1, "indent", null) switch
        {
            null => null,
            long n => new string(' ', (int)Math.Max(0, n)),
            string s => s,
            object other => throw TemplateValueError.Type($"indent must be an int or str, not {PyOps.TypeName(other)}"),
        };
        string? itemSep = null, keySep = null;
        if (args.Get(2, "separators", null) is IReadOnlyList<object?> { Count: 2 } seps)
        {
            itemSep = PyRepr.Str(seps[0]);
            keySep = PyRepr.Str(seps[1]);
        }
        bool sortKeys = PyOps.IsTrue(args.Get(3, "sort_keys", false));
        return new PyJson(ensureAscii, indent, itemSep, keySep, sortKeys).Serialize(value);
    }

    private static string HtmlEscape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&#34;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }

    private static object? ToFloat(object? value, object? fallback)
    {
        switch (value)
        {
            case double d: return d;
            case long l: return (double)l;
            case bool b: return b ? 1.0 : 0.0;
            case string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed): return parsed;
            default: return fallback;
        }
    }

    private static object? ToInt(object? value, object? fallback, int numberBase)
    {
        switch (value)
        {
            case long l: return l;
            case bool b: return b ? 1L : 0L;
            case double d: return (long)Math.Truncate(d);
            case string s:
                string t = s.Trim().Replace("_", "");
                try
                {
                    if (numberBase == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed)) return parsed;
                    if (numberBase != 10) return Convert.ToInt64(t, numberBase);
                }
                catch (FormatException) { return fallback; }
                // Jinja falls back to int(float(s)) so "3.7" | int gives 3.
                return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) ? (long)Math.Truncate(f) : fallback;
            default: return fallback;
        }
    }

    private static object Round(object? value, CallArgs args)
    {
        int precision = Methods.ToInt(args.Get(0, "precision", 0L));
        string method = args.Get(1, "method", "common") as string ?? "common";
        double x = PyOps.ToDouble(value);
        double scale = Math.Pow(10, precision);
        double r = method switch
        {
            "common" => Math.Round(x, Math.Clamp(precision, 0, 15), MidpointRounding.ToEven), // Python round() is half-to-even
            "floor" => Math.Floor(x * scale) / scale,
            "ceil" => Math.Ceiling(x * scale) / scale,
            _ => throw new TemplateValueError("FilterArgumentError", "method must be common, ceil or floor"),
        };
        return value is long && method == "common" ? (object)(long)r : r;
    }

    private static string Indent(string s, CallArgs args)
    {
        object? width = args.Get(0, "width", 4L);
        string indention = width as string ?? new string(' ', Methods.ToInt(width));
        bool first = PyOps.IsTrue(args.Get(1, "first", false));
        bool blank = PyOps.IsTrue(args.Get(2, "blank", false));
        var lines = PyStrings.SplitLines(s + "\n");
        var sb = new StringBuilder();
        for (int i = 0; i < lines.Count; i++)
        {
            string line = (string)lines[i]!;
            if (i > 0)
            {
                sb.Append('\n');
                if (blank || line.Length > 0) sb.Append(indention);
            }
            sb.Append(line);
        }
        return first ? indention + sb : sb.ToString();
    }

    private static string Truncate(string s, CallArgs args)
    {
        int length = Methods.ToInt(args.Get(0, "length", 255L));
        bool killWords = PyOps.IsTrue(args.Get(1, "killwords", false));
        string end = PyRepr.Str(args.Get(2, "end", "..."));
        int leeway = Methods.ToInt(args.Get(3, "leeway", 5L) ?? 5L);
        if (s.Length <= length + leeway) return s;
        string head = s[..Math.Max(0, length - end.Length)];
        if (killWords) return head + end;
        int space = head.LastIndexOf(' ');
        return (space >= 0 ? head[..space] : head) + end;
    }
}
