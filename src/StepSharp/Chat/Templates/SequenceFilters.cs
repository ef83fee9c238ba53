using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>Filters over sequences: join, map, select/reject(attr), sort, unique, dictsort, batch, sum, min, max.</summary>
internal static class SequenceFilters
{
    public static readonly HashSet<string> Names =
        ["map", "select", "reject", "selectattr", "rejectattr", "sort", "unique", "dictsort", "batch", "sum", "min", "max", "groupby"];

    public static object? Apply(Interpreter interpreter, string name, object? value, CallArgs args)
    {
        switch (name)
        {
            case "map": return Map(interpreter, value, args);
            case "select": return Select(interpreter, value, args, attribute: false, keep: true);
            case "reject": return Select(interpreter, value, args, attribute: false, keep: false);
            case "selectattr": return Select(interpreter, value, args, attribute: true, keep: true);
            case "rejectattr": return Select(interpreter, value, args, attribute: true, keep: false);
            case "sort":
            {
                bool reverse = PyOps.IsTrue(args.Get(0, "reverse", false));
                bool caseSensitive = PyOps.IsTrue(args.Get(1, "case_sensitive", false));
                string? attribute = args.Get(2, "attribute", null) as string;
                var items = ValueAccess.Iterate(value);
                return SortBy(items, item => SortKey(attribute is null ? item : GetPath(item, attribute), caseSensitive), reverse);
            }
            case "unique":
            {
                bool caseSensitive = PyOps.IsTrue(args.Get(0, "case_sensitive", false));
                string? attribute = args.Get(1, "attribute", null) as string;
                var seen = new List<object?>();
                var result = new List<object?>();
                foreach (object? item in ValueAccess.Iterate(value))
                {
                    object? key = SortKey(attribute is null ? item : GetPath(item, attribute), caseSensitive);
                    if (seen.Exists(k => PyOps.Equal(k, key))) continue;
                    seen.Add(key);
                    result.Add(item);
                }
                return result;
            }
            case "dictsort":
            {
                if (value is not PyDict dict) throw new TemplateValueError("FilterArgumentError", "dictsort filter requires a mapping");
                bool caseSensitive = PyOps.IsTrue(args.Get(0, "case_sensitive", false));
                string by = args.Get(1, "by", "key") as string ?? "key";
                bool reverse = PyOps.IsTrue(args.Get(2, "reverse", false));
                var pairs = new List<object?>();
                foreach (var kv in dict) pairs.Add(new PyTuple([kv.Key, kv.Value]));
                int pos = by == "value" ? 1 : 0;
                return SortBy(pairs, p => SortKey(((PyTuple)p!)[pos], caseSensitive), reverse);
            }
            case "batch":
            {
                int size = Methods.ToInt(args.Get(0, "linecount"));
                if (size <= 0) throw TemplateValueError.Value("batch size must be positive");
                object? fill = args.Get(1, "fill_with", CallArgs.Missing);
                var result = new List<object?>();
                List<object?>? current = null;
                foreach (object? item in ValueAccess.Iterate(value))
                {
                    current ??= new List<object?>(size);
                    current.Add(item);
                    if (current.Count == size) { result.Add(current); current = null; }
                }
                if (current is not null)
                {
                    if (!ReferenceEquals(fill, CallArgs.Missing)) while (current.Count < size) current.Add(fill);
                    result.Add(current);
                }
                return result;
            }
            case "sum":
            {
                string? attribute = args.Get(0, "attribute", null) as string;
                object? total = args.Get(1, "start", 0L);
                foreach (object? item in ValueAccess.Iterate(value))
                    total = PyOps.Binary("+", total, attribute is null ? item : GetPath(item, attribute));
                return total;
            }
            case "min" or "max":
            {
                bool caseSensitive = PyOps.IsTrue(args.Get(0, "case_sensitive", false));
                string? attribute = args.Get(1, "attribute", null) as string;
                var items = ValueAccess.Iterate(value);
                if (items.Count == 0) return new Undefined($"No aggregated item, sequence was empty.");
                object? best = items[0];
                object? bestKey = SortKey(attribute is null ? best : GetPath(best, attribute), caseSensitive);
                foreach (object? item in items.Skip(1))
                {
                    object? key = SortKey(attribute is null ? item : GetPath(item, attribute), caseSensitive);
                    int c = PyOps.Compare(key, bestKey);
                    if (name == "min" ? c < 0 : c > 0) { best = item; bestKey = key; }
                }
                return best;
            }
            case "groupby":
            {
                string attribute = PyRepr.Str(args.Get(0, "attribute"));
                var groups = new List<(object? Key, List<object?> Items)>();
                var items = SortBy(ValueAccess.Iterate(value), item => GetPath(item, attribute), false);
                foreach (object? item in items)
                {
                    object? key = GetPath(item, attribute);
                    if (groups.Count == 0 || !PyOps.Equal(groups[^1].Key, key)) groups.Add((key, new List<object?>()));
                    groups[^1].Items.Add(item);
                }
                return groups.Select(g => (object?)new PyTuple([g.Key, g.Items])).ToList();
            }
        }
        throw new TemplateValueError("TemplateAssertionError", $"No filter named '{name}'.");
    }

    public static string Join(object? value, CallArgs args)
    {
        string separator = PyRepr.Str(args.Get(0, "d", ""));
        string? attribute = args.Get(1, "attribute", null) as string;
        var sb = new StringBuilder();
        bool first = true;
        foreach (object? item in ValueAccess.Iterate(value))
        {
            if (!first) sb.Append(separator);
            first = false;
            PyRepr.AppendStr(sb, attribute is null ? item : GetPath(item, attribute));
        }
        return sb.ToString();
    }

    /// <summary>Jinja's make_attrgetter: "a.b.0" walks attributes/items, numeric parts index sequences.</summary>
    public static object? GetPath(object? item, string path)
    {
        foreach (string part in path.Split('.'))
        {
            object key = long.TryParse(part, out long n) ? n : part;
            item = ValueAccess.GetItem(item, key);
        }
        return item;
    }

    private static object? SortKey(object? v, bool caseSensitive) =>
        !caseSensitive && v is string s ? s.ToLowerInvariant() : v;

    private static List<object?> SortBy(List<object?> items, Func<object?, object?> key, bool reverse)
    {
        var keyed = items.Select((item, index) => (Key: key(item), Item: item, Index: index)).ToList();
        // Stable like Python's sorted(); reverse=True keeps equal items in original order, as Python does.
        keyed.Sort((a, b) =>
        {
            int c = PyOps.Compare(a.Key, b.Key);
            if (reverse) c = -c;
            return c != 0 ? c : a.Index.CompareTo(b.Index);
        });
        return keyed.Select(k => k.Item).ToList();
    }

    private static List<object?> Map(Interpreter interpreter, object? value, CallArgs args)
    {
        var items = ValueAccess.Iterate(value);
        var result = new List<object?>(items.Count);
        object? attribute = args.Get(-1, "attribute");
        if (!ReferenceEquals(attribute, CallArgs.Missing))
        {
            object? fallback = args.Get(-1, "default");
            foreach (object? item in items)
            {
                object? v = GetPath(item, PyRepr.Str(attribute));
                result.Add(v is Undefined && !ReferenceEquals(fallback, CallArgs.Missing) ? fallback : v);
            }
            return result;
        }
        if (args.Positional.Count == 0) throw new TemplateValueError("FilterArgumentError", "map requires a filter argument");
        string filter = PyRepr.Str(args.Positional[0]);
        var rest = new CallArgs(args.Positional.Skip(1).ToList(), args.Named);
        foreach (object? item in items) result.Add(Filters.Apply(interpreter, filter, item, rest));
        return result;
    }

    private static List<object?> Select(Interpreter interpreter, object? value, CallArgs args, bool attribute, bool keep)
    {
        int offset = attribute ? 1 : 0;
        string? path = attribute ? PyRepr.Str(args.Get(0, "attr")) : null;
        string? test = args.Positional.Count > offset ? PyRepr.Str(args.Positional[offset]) : null;
        var testArgs = new CallArgs(args.Positional.Skip(offset + 1).ToList(), []);
        var result = new List<object?>();
        foreach (object? item in ValueAccess.Iterate(value))
        {
            object? subject = path is null ? item : GetPath(item, path);
            bool passed = test is null ? PyOps.IsTrue(subject) : TemplateTests.Apply(interpreter, test, subject, testArgs);
            if (passed == keep) result.Add(item);
        }
        return result;
    }
}
