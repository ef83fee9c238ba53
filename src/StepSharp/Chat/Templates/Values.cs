namespace StepSharp.Chat.Templates;

// The runtime value model mirrors the Python objects a Jinja2 template sees:
//   None → null, bool → bool, int → long, float → double, str → string,
//   list → List<object?>, tuple → PyTuple, dict → PyDict (insertion ordered),
//   jinja2.Undefined → Undefined, namespace() → TemplateNamespace, macros/functions → TemplateCallable.
// Values are plain boxed objects: templates are small and rendered once per request, so clarity wins
// over avoiding the boxing here (this is not the per-token path).

/// <summary>Jinja2's default Undefined: prints as "", is falsy, iterates as empty; attribute access or calling raises.</summary>
internal sealed class Undefined
{
    public static readonly Undefined Instance = new(null);

    private readonly string? _description;
    private readonly object? _owner;
    private readonly object? _key;
    private readonly int _kind; // 0: fixed description, 1: undefined name, 2: missing attribute/item

    public Undefined(string? description) => _description = description;

    /// <summary>The sandbox's "unsafe" undefined: what list.append etc. evaluate to; using it raises SecurityError.</summary>
    public static Undefined Unsafe(string attribute, object? owner) =>
        new($"access to attribute '{attribute}' of '{PyOps.TypeName(owner)}' object is unsafe.") { IsSecurityViolation = true };

    private bool IsSecurityViolation { get; init; }

    /// <summary>The exception Jinja raises when this value is printed-through-an-operation, called or indexed.</summary>
    public TemplateValueError Failure() => new(IsSecurityViolation ? "SecurityError" : "UndefinedError", ErrorMessage);

    private Undefined(int kind, object? owner, object? key)
    {
        _kind = kind;
        _owner = owner;
        _key = key;
    }

    /// <summary>Why the value is undefined, for the error raised when it is used ("'x' is undefined").</summary>
    public string ErrorMessage => _kind switch
    {
        // Built lazily: most undefined values are only tested with "is defined" and never reported.
        1 => $"'{_key}' is undefined",
        2 => $"'{PyOps.TypeName(_owner)} object' has no attribute {PyRepr.Repr(_key)}",
        _ => _description ?? "value is undefined",
    };

    public static Undefined Named(string name) => new(1, null, name);

    public static Undefined Attribute(object? owner, object? key) => new(2, owner, key);

    public override string ToString() => "";
}

/// <summary>A Python tuple (from items(), tuple literals, loop unpacking). Immutable.</summary>
internal sealed class PyTuple(object?[] items) : IReadOnlyList<object?>
{
    public static readonly PyTuple Empty = new([]);
    public object?[] Items { get; } = items;
    public int Count => Items.Length;
    public object? this[int index] => Items[index];
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)Items).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => Items.GetEnumerator();
}

/// <summary>A Python dict: insertion ordered, keys compared with Python equality (1 == 1.0 == True).</summary>
internal sealed class PyDict : OrderedDictionary<object, object?>
{
    public PyDict() : base(PyKeyComparer.Instance) { }
    public PyDict(int capacity) : base(capacity, PyKeyComparer.Instance) { }
}

/// <summary>Python hashing/equality for dict keys.</summary>
internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => PyOps.Equal(x, y);

    public int GetHashCode(object obj) => obj switch
    {
        string s => s.GetHashCode(StringComparison.Ordinal),
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d => d == Math.Floor(d) && Math.Abs(d) < 9e18 ? ((long)d).GetHashCode() : d.GetHashCode(),
        PyTuple t => t.Count,
        Undefined => 7,
        _ => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj),
    };
}

/// <summary>The object made by <c>namespace(...)</c>: the one mutable thing a template may assign attributes on.</summary>
internal sealed class TemplateNamespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>Positional and keyword arguments of one call, read Python style.</summary>
internal sealed class CallArgs
{
    public static readonly CallArgs None = new([], []);

    public CallArgs(List<object?> positional, List<KeyValuePair<string, object?>> named)
    {
        Positional = positional;
        Named = named;
    }

    public List<object?> Positional { get; }
    public List<KeyValuePair<string, object?>> Named { get; }

    /// <summary>Marker for "argument not given".</summary>
    public static readonly object Missing = new();

    /// <summary>The argument at <paramref name="position"/> or named <paramref name="name"/>, else <see cref="Missing"/>.</summary>
    public object? Get(int position, string name)
    {
        if (position >= 0 && position < Positional.Count) return Positional[position];
        foreach (var kv in Named)
            if (kv.Key == name) return kv.Value;
        return Missing;
    }

    public object? Get(int position, string name, object? fallback)
    {
        object? v = Get(position, name);
        return ReferenceEquals(v, Missing) ? fallback : v;
    }

    /// <summary>Rejects more positional arguments or unknown keywords than the callee takes (Python's TypeError).</summary>
    public void Check(string callee, params string[] parameterNames)
    {
        if (Positional.Count > parameterNames.Length)
            throw TemplateValueError.Type($"{callee}() takes at most {parameterNames.Length} arguments ({Positional.Count} given)");
        foreach (var kv in Named)
            if (Array.IndexOf(parameterNames, kv.Key) < 0)
                throw TemplateValueError.Type($"{callee}() got an unexpected keyword argument '{kv.Key}'");
    }
}

/// <summary>Anything a template can call: macros, globals, bound methods, loop.cycle.</summary>
internal abstract class TemplateCallable
{
    public abstract string Name { get; }
    public abstract object? Invoke(Interpreter interpreter, CallArgs args);
}

/// <summary>A built-in global function such as range() or raise_exception().</summary>
internal sealed class BuiltinFunction(string name, Func<Interpreter, CallArgs, object?> body) : TemplateCallable
{
    public override string Name => name;
    public override object? Invoke(Interpreter interpreter, CallArgs args) => body(interpreter, args);
}

/// <summary>A method looked up on a value (<c>s.startswith</c>), called later with its arguments.</summary>
internal sealed class BoundMethod(object? target, string name) : TemplateCallable
{
    public object? Target => target;
    public override string Name => name;
    public override object? Invoke(Interpreter interpreter, CallArgs args) => Methods.Call(target, name, args);
}
