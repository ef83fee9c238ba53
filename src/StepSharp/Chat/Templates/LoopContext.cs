namespace StepSharp.Chat.Templates;

/// <summary>The <c>loop</c> variable inside {% for %}: index, first/last, previtem/nextitem, cycle(...).</summary>
internal sealed class LoopContext(IReadOnlyList<object?> items, int depth0, Func<object?, string>? recurse)
{
    private object? _lastChanged = CallArgs.Missing;

    public int Index0 { get; set; }
    public int Length => items.Count;
    public int Depth0 => depth0;

    public object? GetAttribute(string name) => name switch
    {
        "index" => (long)(Index0 + 1),
        "index0" => (long)Index0,
        "revindex" => (long)(Length - Index0),
        "revindex0" => (long)(Length - Index0 - 1),
        "first" => Index0 == 0,
        "last" => Index0 == Length - 1,
        "length" => (long)Length,
        "depth" => (long)(depth0 + 1),
        "depth0" => (long)depth0,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 + 1 < Length ? items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new BuiltinFunction("loop.cycle", (_, args) =>
        {
            if (args.Positional.Count == 0) throw TemplateValueError.Type("no items for cycling given");
            return args.Positional[Index0 % args.Positional.Count];
        }),
        "changed" => new BuiltinFunction("loop.changed", (_, args) =>
        {
            var value = new PyTuple(args.Positional.ToArray());
            if (PyOps.Equal(value, _lastChanged)) return false;
            _lastChanged = value;
            return true;
        }),
        _ => Undefined.Attribute(this, name),
    };

    /// <summary>loop(children) inside a recursive for: renders the body again one level deeper.</summary>
    public string Recurse(object? iterable) =>
        recurse is null ? throw TemplateValueError.Type("loop() can only be called inside a 'for ... recursive' loop") : recurse(iterable);
}
