using System.Text.Json.Nodes;

namespace StepSharp.Chat.Templates;

/// <summary>
/// A parsed Jinja2 chat template (Hugging Face <c>chat_template</c>), rendered with the environment
/// transformers' <c>apply_chat_template</c> uses: trim_blocks, lstrip_blocks, no autoescape, default
/// Undefined, immutable sandbox, and the globals raise_exception / strftime_now plus its tojson filter.
/// Parse once, render many times; a template holds no per-render state and is safe to share.
/// </summary>
public sealed class ChatTemplate
{
    private readonly List<Stmt> _body;

    private ChatTemplate(string name, List<Stmt> body)
    {
        Name = name;
        _body = body;
    }

    /// <summary>The name used in error messages.</summary>
    public string Name { get; }

    /// <summary>Clock behind <c>strftime_now</c>; transformers uses the local time. Override for reproducible output.</summary>
    public Func<DateTime> Clock { get; init; } = () => DateTime.Now;

    /// <summary>Parses the template; throws <see cref="TemplateSyntaxException"/> naming the line, column and construct.</summary>
    public static ChatTemplate Parse(string source, string name = "template")
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(name, Parser.ParseTemplate(source, name));
    }

    /// <summary>A copy of this template whose strftime_now reads <paramref name="clock"/>.</summary>
    public ChatTemplate WithClock(Func<DateTime> clock) => new(Name, _body) { Clock = clock };

    /// <summary>
    /// Renders with the given top-level variables (strings, numbers, bools, null, lists, dictionaries, JsonNode).
    /// Throws <see cref="TemplateRaisedException"/> when the template calls raise_exception, and
    /// <see cref="TemplateRuntimeException"/> for any other error (message names the line).
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var root = new Scope(null);
        foreach (var kv in variables)
        {
            object? value;
            try { value = TemplateValues.FromClr(kv.Value); }
            catch (ArgumentException e) { throw new TemplateRuntimeException($"variable '{kv.Key}': {e.Message}", Name, 0, e); }
            root.Set(kv.Key, value);
        }
        return new Interpreter(Name, Clock).Render(_body, root);
    }

    /// <summary>Renders with the properties of a JSON object as top-level variables (a JSON null is None, not undefined).</summary>
    public string Render(JsonObject variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var root = new Scope(null);
        foreach (var kv in variables) root.Set(kv.Key, TemplateValues.FromJson(kv.Value));
        return new Interpreter(Name, Clock).Render(_body, root);
    }
}
