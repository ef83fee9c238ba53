using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>
/// Python methods templates call on values: str (startswith, split, strip...), dict (get, items...),
/// list (index, count). The immutable sandbox transformers uses refuses mutating methods (append,
/// update, pop...) with a SecurityError, and so do we.
/// </summary>
internal static class Methods
{
    private static readonly HashSet<string> StringMethods =
    [
        "startswith", "endswith", "split", "rsplit", "strip", "lstrip", "rstrip", "upper", "lower", "title",
        "capitalize", "replace", "find", "rfind", "index", "rindex", "count", "join", "isdigit", "isalpha", "isalnum",
        "isspace", "isupper", "islower", "isnumeric", "isdecimal", "splitlines", "format", "zfill", "center", "ljust",
        "rjust", "partition", "rpartition", "swapcase", "casefold", "removeprefix", "removesuffix", "encode",
    ];
    private static readonly HashSet<string> DictMethods = ["get", "items", "keys", "values", "copy"];
    private static readonly HashSet<string> ListMethods = ["index", "count", "copy"];
    private static readonly HashSet<string> DictMutators = ["update", "pop", "popitem", "setdefault", "clear"];
    private static readonly HashSet<string> ListMutators = ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"];

    public static bool Has(object? target, string name) => target switch
    {
        string => StringMethods.Contains(name),
        PyDict => DictMethods.Contains(name),
        List<object?> => ListMethods.Contains(name),
        PyTuple => name is "index" or "count",
        _ => false,
    };

    /// <summary>
    /// ImmutableSandboxedEnvironment.is_safe_attribute: methods that modify a dict or list exist but are
    /// replaced by an "unsafe" Undefined, so calling them raises SecurityError.
    /// </summary>
    public static bool IsUnsafe(object? target, string name) => target switch
    {
        PyDict => DictMutators.Contains(name),
        List<object?> => ListMutators.Contains(name),
        _ => name.StartsWith('_'),
    };

    public static object? Call(object? target, string name, CallArgs args)
    {
        switch (target)
        {
            case string s: return StringMethod(s, name, args);
            case PyDict d: return DictMethod(d, name, args);
            case IReadOnlyList<object?> l: return ListMethod(l, name, args);
        }
        throw TemplateValueError.Type($"'{PyOps.TypeName(target)}' object has no attribute '{name}'");
    }

    private static object? DictMethod(PyDict d, string name, CallArgs args)
    {
        switch (name)
        {
            case "get":
            {
                object? key = args.Get(0, "key");
                object? fallback = args.Get(1, "default", null);
                return key is not null && d.TryGetValue(key, out object? v) ? v : fallback;
            }
            case "items":
            {
                var items = new List<object?>(d.Count);
                foreach (var kv in d) items.Add(new PyTuple([kv.Key, kv.Value]));
                return items;
            }
            case "keys":
            {
                var keys = new List<object?>(d.Count);
                foreach (var kv in d) keys.Add(kv.Key);
                return keys;
            }
            case "values":
            {
                var values = new List<object?>(d.Count);
                foreach (var kv in d) values.Add(kv.Value);
                return values;
            }
            default:
            {
                var copy = new PyDict(d.Count);
                foreach (var kv in d) copy[kv.Key] = kv.Value;
                return copy;
            }
        }
    }

    private static object? ListMethod(IReadOnlyList<object?> l, string name, CallArgs args)
    {
        object? needle = args.Get(0, "value");
        switch (name)
        {
            case "index":
                for (int i = 0; i < l.Count; i++)
                    if (PyOps.Equal(l[i], needle)) return (long)i;
                throw TemplateValueError.Value($"{PyRepr.Repr(needle)} is not in list");
            case "count":
                long n = 0;
                foreach (object? item in l)
                    if (PyOps.Equal(item, needle)) n++;
                return n;
            default:
                return new List<object?>(l);
        }
    }

    private static string StrArg(CallArgs args, int position, string name)
    {
        object? v = args.Get(position, name);
        return v as string ?? throw TemplateValueError.Type($"{name} must be str, not {PyOps.TypeName(v)}");
    }

    private static string? OptionalChars(CallArgs args) => args.Get(0, "chars", null) switch
    {
        null => null,
        string chars => chars,
        object other => throw TemplateValueError.Type($"strip arg must be None or str, not {PyOps.TypeName(other)}"),
    };

    private static object? StringMethod(string s, string name, CallArgs args)
    {
        switch (name)
        {
            case "startswith": return AffixTest(s, args.Get(0, "prefix"), prefix: true);
            case "endswith": return AffixTest(s, args.Get(0, "suffix"), prefix: false);
            case "split": return PyStrings.Split(s, args.Get(0, "sep", null) as string, ToInt(args.Get(1, "maxsplit", -1L)));
            case "rsplit": return PyStrings.RSplit(s, args.Get(0, "sep", null) as string, ToInt(args.Get(1, "maxsplit", -1L)));
            case "strip": return PyStrings.Strip(s, OptionalChars(args), true, true);
            case "lstrip": return PyStrings.Strip(s, OptionalChars(args), true, false);
            case "rstrip": return PyStrings.Strip(s, OptionalChars(args), false, true);
            case "upper": return s.ToUpperInvariant();
            case "lower": return s.ToLowerInvariant();
            case "casefold": return s.ToLowerInvariant();
            case "swapcase":
            {
                var sb = new StringBuilder(s.Length);
                foreach (char c in s) sb.Append(char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
                return sb.ToString();
            }
            case "title": return PyStrings.PythonTitle(s);
            case "capitalize": return PyStrings.Capitalize(s);
            case "replace": return PyStrings.Replace(s, StrArg(args, 0, "old"), StrArg(args, 1, "new"), ToInt(args.Get(2, "count", -1L)));
            case "find": return (long)s.IndexOf(StrArg(args, 0, "sub"), StringComparison.Ordinal);
            case "rfind": return (long)s.LastIndexOf(StrArg(args, 0, "sub"), StringComparison.Ordinal);
            case "index" or "rindex":
            {
                string sub = StrArg(args, 0, "sub");
                int i = name == "index" ? s.IndexOf(sub, StringComparison.Ordinal) : s.LastIndexOf(sub, StringComparison.Ordinal);
                return i >= 0 ? i : throw TemplateValueError.Value("substring not found");
            }
            case "count": return (long)PyStrings.Count(s, StrArg(args, 0, "sub"));
            case "join":
            {
                var sb = new StringBuilder();
                bool first = true;
                foreach (object? item in ValueAccess.Iterate(args.Get(0, "iterable")))
                {
                    if (!first) sb.Append(s);
                    first = false;
                    sb.Append(item as string ?? throw TemplateValueError.Type($"sequence item: expected str instance, {PyOps.TypeName(item)} found"));
                }
                return sb.ToString();
            }
            case "isdigit" or "isnumeric" or "isdecimal": return s.Length > 0 && s.All(char.IsDigit);
            case "isalpha": return s.Length > 0 && s.All(char.IsLetter);
            case "isalnum": return s.Length > 0 && s.All(char.IsLetterOrDigit);
            case "isspace": return s.Length > 0 && s.All(char.IsWhiteSpace);
            case "isupper": return s.Any(char.IsLetter) && !s.Any(char.IsLower);
            case "islower": return s.Any(char.IsLetter) && !s.Any(char.IsUpper);
            case "splitlines": return PyStrings.SplitLines(s);
            case "format": return PyStrings.Format(s, args);
            case "zfill":
            {
                int width = ToInt(args.Get(0, "width"));
                if (s.Length >= width) return s;
                int sign = s.Length > 0 && s[0] is '+' or '-' ? 1 : 0;
                return s[..sign] + new string('0', width - s.Length) + s[sign..];
            }
            case "center": return PyStrings.Center(s, ToInt(args.Get(0, "width")), (args.Get(1, "fillchar", " ") as string ?? " ")[0]);
            case "ljust": return s.PadRight(ToInt(args.Get(0, "width")), (args.Get(1, "fillchar", " ") as string ?? " ")[0]);
            case "rjust": return s.PadLeft(ToInt(args.Get(0, "width")), (args.Get(1, "fillchar", " ") as string ?? " ")[0]);
            case "partition" or "rpartition":
            {
                string sep = StrArg(args, 0, "sep");
                int i = name == "partition" ? s.IndexOf(sep, StringComparison.Ordinal) : s.LastIndexOf(sep, StringComparison.Ordinal);
                if (i < 0) return name == "partition" ? new PyTuple([s, "", ""]) : new PyTuple(["", "", s]);
                return new PyTuple([s[..i], sep, s[(i + sep.Length)..]]);
            }
            case "removeprefix": { string p = StrArg(args, 0, "prefix"); return s.StartsWith(p, StringComparison.Ordinal) ? s[p.Length..] : s; }
            case "removesuffix": { string p = StrArg(args, 0, "suffix"); return p.Length > 0 && s.EndsWith(p, StringComparison.Ordinal) ? s[..^p.Length] : s; }
            case "encode": return s;
        }
        throw TemplateValueError.Type($"'str' object has no attribute '{name}'");
    }

    private static bool AffixTest(string s, object? affix, bool prefix)
    {
        if (affix is string a) return prefix ? s.StartsWith(a, StringComparison.Ordinal) : s.EndsWith(a, StringComparison.Ordinal);
        if (affix is PyTuple t)
        {
            foreach (object? item in t)
                if (AffixTest(s, item, prefix)) return true;
            return false;
        }
        throw TemplateValueError.Type($"{(prefix ? "startswith" : "endswith")} first arg must be str or a tuple of str, not {PyOps.TypeName(affix)}");
    }

    public static int ToInt(object? v) => v switch
    {
        long l => (int)Math.Clamp(l, int.MinValue, int.MaxValue),
        bool b => b ? 1 : 0,
        _ => throw TemplateValueError.Type($"'{PyOps.TypeName(v)}' object cannot be interpreted as an integer"),
    };
}
