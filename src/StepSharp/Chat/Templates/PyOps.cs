using System.Globalization;

namespace StepSharp.Chat.Templates;

/// <summary>Python semantics of the operators a template uses: truth, ==, ordering, + - * / // % **.</summary>
internal static class PyOps
{
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        List<object?> => "list",
        PyTuple => "tuple",
        PyDict => "dict",
        Undefined => "Undefined",
        TemplateNamespace => "Namespace",
        LoopContext => "LoopContext",
        Macro => "Macro",
        TemplateCallable => "function",
        _ => v.GetType().Name,
    };

    public static bool IsTrue(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        PyTuple t => t.Count > 0,
        PyDict d => d.Count > 0,
        Undefined => false,
        _ => true,
    };

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw TemplateValueError.Type($"expected a number, got {TypeName(v)}"),
    };

    /// <summary>bool counts as int in Python arithmetic.</summary>
    private static bool IsIntLike(object? v) => v is long or bool;
    private static long ToLong(object? v) => v is bool b ? (b ? 1 : 0) : (long)v!;

    public static bool Equal(object? a, object? b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null) return false;
        if (IsNumber(a) && IsNumber(b))
        {
            if (IsIntLike(a) && IsIntLike(b)) return ToLong(a) == ToLong(b);
            return ToDouble(a) == ToDouble(b);
        }
        switch (a)
        {
            case string sa: return b is string sb && string.Equals(sa, sb, StringComparison.Ordinal);
            case Undefined: return b is Undefined;
            case List<object?> la: return b is List<object?> lb && SequenceEqual(la, lb);
            case PyTuple ta: return b is PyTuple tb && SequenceEqual(ta, tb);
            case PyDict da:
                if (b is not PyDict db || da.Count != db.Count) return false;
                foreach (var kv in da)
                    if (!db.TryGetValue(kv.Key, out var other) || !Equal(kv.Value, other)) return false;
                return true;
            default: return a.Equals(b);
        }
    }

    private static bool SequenceEqual(IReadOnlyList<object?> a, IReadOnlyList<object?> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
            if (!Equal(a[i], b[i])) return false;
        return true;
    }

    /// <summary>Python ordering (&lt; &gt; sort): numbers with numbers, str with str, sequences lexicographically.</summary>
    public static int Compare(object? a, object? b, string op = "<")
    {
        if (IsNumber(a) && IsNumber(b))
        {
            if (IsIntLike(a) && IsIntLike(b)) return ToLong(a).CompareTo(ToLong(b));
            return ToDouble(a).CompareTo(ToDouble(b));
        }
        if (a is string sa && b is string sb) return string.CompareOrdinal(sa, sb) switch { < 0 => -1, > 0 => 1, _ => 0 };
        if (a is IReadOnlyList<object?> la && b is IReadOnlyList<object?> lb && a.GetType() == b.GetType())
        {
            int n = Math.Min(la.Count, lb.Count);
            for (int i = 0; i < n; i++)
                if (!Equal(la[i], lb[i])) return Compare(la[i], lb[i], op);
            return la.Count.CompareTo(lb.Count);
        }
        if (a is Undefined u) throw u.Failure();
        if (b is Undefined ub) throw ub.Failure();
        throw TemplateValueError.Type($"'{op}' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    public static object? Binary(string op, object? a, object? b)
    {
        if (a is Undefined ua) throw ua.Failure();
        if (b is Undefined ub) throw ub.Failure();
        if (IsNumber(a) && IsNumber(b)) return Arithmetic(op, a, b);
        switch (op)
        {
            case "+":
                if (a is string s1 && b is string s2) return string.Concat(s1, s2);
                if (a is List<object?> l1 && b is List<object?> l2) { var r = new List<object?>(l1.Count + l2.Count); r.AddRange(l1); r.AddRange(l2); return r; }
                if (a is PyTuple t1 && b is PyTuple t2) return new PyTuple([.. t1.Items, .. t2.Items]);
                if (a is string) throw TemplateValueError.Type($"can only concatenate str (not \"{TypeName(b)}\") to str");
                if (a is List<object?>) throw TemplateValueError.Type($"can only concatenate list (not \"{TypeName(b)}\") to list");
                break;
            case "*":
                if (a is string rs && IsIntLike(b)) return Repeat(rs, ToLong(b));
                if (b is string rs2 && IsIntLike(a)) return Repeat(rs2, ToLong(a));
                if (a is List<object?> rl && IsIntLike(b)) return RepeatList(rl, ToLong(b));
                break;
            case "%":
                if (a is string fmt) return PyFormat.Percent(fmt, b);
                break;
        }
        throw TemplateValueError.Type($"unsupported operand type(s) for {op}: '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static string Repeat(string s, long n) => n <= 0 ? "" : new System.Text.StringBuilder(s.Length * (int)n).Insert(0, s, (int)n).ToString();

    private static List<object?> RepeatList(List<object?> l, long n)
    {
        var r = new List<object?>();
        for (long i = 0; i < n; i++) r.AddRange(l);
        return r;
    }

    private static object Arithmetic(string op, object? a, object? b)
    {
        if (IsIntLike(a) && IsIntLike(b))
        {
            long x = ToLong(a), y = ToLong(b);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "/": if (y == 0) throw ZeroDivision("division by zero"); return (double)x / y;
                case "//": if (y == 0) throw ZeroDivision("integer division or modulo by zero"); return FloorDiv(x, y);
                case "%": if (y == 0) throw ZeroDivision("integer modulo by zero"); return x - FloorDiv(x, y) * y;
                case "**":
                    if (y < 0) return Math.Pow(x, y);
                    long r = 1;
                    for (long i = 0; i < y; i++) r *= x;
                    return r;
            }
        }
        double p = ToDouble(a), q = ToDouble(b);
        switch (op)
        {
            case "+": return p + q;
            case "-": return p - q;
            case "*": return p * q;
            case "/": if (q == 0) throw ZeroDivision("float division by zero"); return p / q;
            case "//": if (q == 0) throw ZeroDivision("float floor division by zero"); return Math.Floor(p / q);
            case "%":
                if (q == 0) throw ZeroDivision("float modulo");
                double m = p % q;
                return m != 0 && (m < 0) != (q < 0) ? m + q : m;
            case "**": return Math.Pow(p, q);
        }
        throw TemplateValueError.Type($"unknown operator {op}");
    }

    private static long FloorDiv(long x, long y)
    {
        long q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) q--;
        return q;
    }

    private static TemplateValueError ZeroDivision(string message) => new("ZeroDivisionError", message);

    public static object? Negate(object? v) => v switch
    {
        long l => (object)(-l),
        double d => -d,
        bool b => b ? -1L : 0L,
        Undefined u => throw u.Failure(),
        _ => throw TemplateValueError.Type($"bad operand type for unary -: '{TypeName(v)}'"),
    };

    /// <summary>Python's <c>needle in haystack</c>.</summary>
    public static bool Contains(object? haystack, object? needle)
    {
        switch (haystack)
        {
            case string s:
                if (needle is string n) return s.Contains(n, StringComparison.Ordinal);
                throw TemplateValueError.Type($"'in <string>' requires string as left operand, not {TypeName(needle)}");
            case PyDict d: return needle is not null && d.ContainsKey(needle);
            case IReadOnlyList<object?> l:
                foreach (var item in l)
                    if (Equal(item, needle)) return true;
                return false;
            case Undefined: return false;
            default: throw TemplateValueError.Type($"argument of type '{TypeName(haystack)}' is not iterable");
        }
    }

    public static string FormatInvariant(long v) => v.ToString(CultureInfo.InvariantCulture);
}
