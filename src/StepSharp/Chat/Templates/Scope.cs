namespace StepSharp.Chat.Templates;

/// <summary>
/// One variable frame. Jinja2 gives a new frame to each for loop (so {% set %} inside a loop does not leak
/// out, which is why templates use namespace()), each macro call and each with block; if blocks share
/// their enclosing frame. Lookups walk outwards.
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public Scope? Parent => parent;

    public bool TryLookup(string name, out object? value)
    {
        for (Scope? s = this; s is not null; s = s.Parent)
            if (s._vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    public void Set(string name, object? value) => _vars[name] = value;
}
