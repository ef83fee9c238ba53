namespace StepSharp.Chat.Templates;

/// <summary>Jinja2's tests (<c>x is defined</c>, <c>x is string</c>, ...) from jinja2/tests.py, with Python's type rules.</summary>
internal static class TemplateTests
{
    private static readonly HashSet<string> Names =
    [
        "defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable", "sequence",
        "boolean", "true", "false", "odd", "even", "divisibleby", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan",
        "<", "gt", "greaterthan", ">", "ge", ">=", "le", "<=", "in", "sameas", "callable", "lower", "upper",
        "filter", "test", "escaped",
    ];

    public static bool Exists(string name) => Names.Contains(name);

    public static bool Apply(Interpreter interpreter, string name, object? value, CallArgs args)
    {
        object? Arg() => args.Get(0, "other") is var v && ReferenceEquals(v, CallArgs.Missing)
            ? throw TemplateValueError.Type($"test '{name}' needs an argument")
            : v;

        switch (name)
        {
            case "defined": return value is not Undefined;
            case "undefined": return value is Undefined;
            case "none": return value is null;
            case "string": return value is string;
            // Python: bool is a Number and an int, but Jinja's integer test excludes it explicitly.
            case "number": return value is long or double or bool;
            case "integer": return value is long;
            case "float": return value is double;
            case "boolean": return value is bool;
            case "true": return value is true;
            case "false": return value is false;
            case "mapping": return value is PyDict;
            case "iterable": return value is string or IReadOnlyList<object?> or PyDict or Undefined;
            // jinja2.Undefined has __len__ and __getitem__, so Jinja's sequence test accepts it.
            case "sequence": return value is string or IReadOnlyList<object?> or PyDict or Undefined;
            case "callable": return value is TemplateCallable;
            case "odd": return ToLong(value) % 2 != 0;
            case "even": return ToLong(value) % 2 == 0;
            case "divisibleby": return ToLong(value) % ToLong(Arg()) == 0;
            case "eq" or "equalto" or "==": return PyOps.Equal(value, Arg());
            case "ne" or "!=": return !PyOps.Equal(value, Arg());
            case "lt" or "lessthan" or "<": return PyOps.Compare(value, Arg(), "<") < 0;
            case "gt" or "greaterthan" or ">": return PyOps.Compare(value, Arg(), ">") > 0;
            case "le" or "<=": return PyOps.Compare(value, Arg(), "<=") <= 0;
            case "ge" or ">=": return PyOps.Compare(value, Arg(), ">=") >= 0;
            case "in": return PyOps.Contains(args.Get(0, "seq"), value);
            case "sameas": return SameAs(value, Arg());
            case "lower": return value is string s && s == s.ToLowerInvariant();
            case "upper": return value is string u && u == u.ToUpperInvariant();
            case "filter": return value is string f && Filters.Exists(f);
            case "test": return value is string t && Exists(t);
            case "escaped": return false;
        }
        throw new TemplateValueError("TemplateAssertionError", $"No test named '{name}'.");
    }

    /// <summary>Python 'is': singletons (None/True/False) and small values compare by value, containers by identity.</summary>
    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        (long x, long y) => x == y,
        (string x, string y) => ReferenceEquals(x, y) || x == y,
        _ => ReferenceEquals(a, b),
    };

    private static long ToLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d when d == Math.Floor(d) => (long)d,
        Undefined u => throw u.Failure(),
        _ => throw TemplateValueError.Type($"unsupported operand type(s) for %: '{PyOps.TypeName(v)}' and 'int'"),
    };
}
