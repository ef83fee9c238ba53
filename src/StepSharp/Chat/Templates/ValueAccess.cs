namespace StepSharp.Chat.Templates;

/// <summary>
/// Attribute, item and slice access with Jinja2's rules: <c>a.b</c> tries the Python attribute (a method)
/// first and then the item; <c>a['b']</c> tries the item first and then the attribute; a miss gives
/// Undefined, but any access on an Undefined raises (jinja2.Undefined, sandbox getattr/getitem).
/// </summary>
internal static class ValueAccess
{
    public static object? GetAttr(object? target, string name)
    {
        switch (target)
        {
            case Undefined u: throw u.Failure();
            case TemplateNamespace ns:
                return ns.Attributes.TryGetValue(name, out object? attr) ? attr : Undefined.Attribute(target, name);
            case LoopContext loop: return loop.GetAttribute(name);
            case PyDict dict:
                if (Methods.Has(dict, name)) return new BoundMethod(dict, name);
                if (Methods.IsUnsafe(dict, name)) return Undefined.Unsafe(name, dict);
                return dict.TryGetValue(name, out object? value) ? value : Undefined.Attribute(target, name);
        }
        if (Methods.Has(target, name)) return new BoundMethod(target, name);
        if (Methods.IsUnsafe(target, name)) return Undefined.Unsafe(name, target);
        return Undefined.Attribute(target, name);
    }

    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case Undefined u: throw u.Failure();
            case PyDict dict:
                if (key is not null && dict.TryGetValue(key, out object? value)) return value;
                break;
            case IReadOnlyList<object?> list when key is long or bool:
            {
                long i = key is bool b ? (b ? 1 : 0) : (long)key;
                if (i < 0) i += list.Count;
                if (i >= 0 && i < list.Count) return list[(int)i];
                return new Undefined($"{PyOps.TypeName(target)} object has no element {key}");
            }
            case string s when key is long or bool:
            {
                long i = key is bool b ? (b ? 1 : 0) : (long)key;
                if (PyStrings.HasSurrogates(s)) return GetItem(PyStrings.CodePoints(s), key) is string c ? c : new Undefined($"str object has no element {key}");
                if (i < 0) i += s.Length;
                if (i >= 0 && i < s.Length) return s[(int)i].ToString();
                return new Undefined($"str object has no element {key}");
            }
            case TemplateNamespace or LoopContext when key is string attr:
                return GetAttr(target, attr);
        }
        // obj['name'] falls back to the attribute, as Jinja's getitem does.
        if (key is string name && target is not (Undefined or TemplateNamespace or LoopContext)) return GetAttr(target, name);
        return Undefined.Attribute(target, key);
    }

    /// <summary>Python slice semantics (negative bounds count from the end, step may be negative).</summary>
    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        if (target is Undefined u) throw u.Failure();
        // Python indexes strings by code point; slice the code points when the text has astral characters.
        if (target is string astral && PyStrings.HasSurrogates(astral))
            return string.Concat((List<object?>)Slice(PyStrings.CodePoints(astral), start, stop, step)!);
        int length = target switch
        {
            string s => s.Length,
            IReadOnlyList<object?> l => l.Count,
            _ => throw TemplateValueError.Type($"'{PyOps.TypeName(target)}' object is not subscriptable"),
        };
        long st = step is null ? 1 : ToIndex(step);
        if (st == 0) throw TemplateValueError.Value("slice step cannot be zero");
        long lo, hi;
        if (st > 0)
        {
            lo = start is null ? 0 : Clamp(ToIndex(start), length, 0, length);
            hi = stop is null ? length : Clamp(ToIndex(stop), length, 0, length);
        }
        else
        {
            lo = start is null ? length - 1 : Clamp(ToIndex(start), length, -1, length - 1);
            hi = stop is null ? -1 : Clamp(ToIndex(stop), length, -1, length - 1);
        }
        var indexes = new List<int>();
        if (st > 0) for (long i = lo; i < hi; i += st) indexes.Add((int)i);
        else for (long i = lo; i > hi; i += st) indexes.Add((int)i);

        switch (target)
        {
            case string s:
                if (st == 1) return s.Substring((int)lo, indexes.Count);
                var chars = new char[indexes.Count];
                for (int i = 0; i < chars.Length; i++) chars[i] = s[indexes[i]];
                return new string(chars);
            case PyTuple t:
                var items = new object?[indexes.Count];
                for (int i = 0; i < items.Length; i++) items[i] = t[indexes[i]];
                return new PyTuple(items);
            default:
                var list = (IReadOnlyList<object?>)target;
                var result = new List<object?>(indexes.Count);
                foreach (int i in indexes) result.Add(list[i]);
                return result;
        }
    }

    private static long ToIndex(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw TemplateValueError.Type("slice indices must be integers or None"),
    };

    private static long Clamp(long index, int length, long min, long max)
    {
        if (index < 0) index += length;
        return Math.Clamp(index, min, max);
    }

    /// <summary>Python iteration: list items, dict keys, string characters; Undefined is empty, None raises.</summary>
    public static List<object?> Iterate(object? value)
    {
        switch (value)
        {
            case List<object?> list: return new List<object?>(list);
            case PyTuple t: return new List<object?>(t.Items);
            case PyDict d:
            {
                var keys = new List<object?>(d.Count);
                foreach (var kv in d) keys.Add(kv.Key);
                return keys;
            }
            case string s: return PyStrings.CodePoints(s);
            case Undefined: return [];
            default: throw TemplateValueError.Type($"'{PyOps.TypeName(value)}' object is not iterable");
        }
    }

    /// <summary>Python counts code points, so an emoji (a UTF-16 surrogate pair) has length 1.</summary>
    private static long CodePointCount(string s)
    {
        long n = s.Length;
        foreach (char c in s)
            if (char.IsLowSurrogate(c)) n--;
        return n;
    }

    public static long Length(object? value) => value switch
    {
        string s => CodePointCount(s),
        IReadOnlyList<object?> l => l.Count,
        PyDict d => d.Count,
        Undefined => 0,
        TemplateNamespace ns => ns.Attributes.Count,
        _ => throw TemplateValueError.Type($"object of type '{PyOps.TypeName(value)}' has no len()"),
    };
}
