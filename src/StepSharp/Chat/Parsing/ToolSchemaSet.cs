using System.Text.Json.Nodes;

namespace StepSharp.Chat.Parsing;

/// <summary>
/// The request's declared tools, reduced to what output parsing needs: which names are declared (bare and
/// misspelled function tags are only repaired for those) and each parameter's conversion kind.
/// Accepts OpenAI entries (<c>{"type":"function","function":{...}}</c>) and bare function objects.
/// </summary>
public sealed class ToolSchemaSet
{
    public static readonly ToolSchemaSet None = new(null);

    private readonly Dictionary<string, Dictionary<string, ToolParameterKind>> _tools = new(StringComparer.Ordinal);

    public ToolSchemaSet(JsonArray? tools)
    {
        if (tools is null) return;
        for (int i = 0; i < tools.Count; i++)
        {
            if (tools[i] is not JsonObject entry)
                throw new ArgumentException($"tools[{i}] is not a JSON object.", nameof(tools));
            JsonObject function = entry["function"] as JsonObject ?? entry;
            if (function["name"] is not JsonValue nameValue || !nameValue.TryGetValue(out string? name) || string.IsNullOrEmpty(name))
                throw new ArgumentException($"tools[{i}] has no function name.", nameof(tools));
            var kinds = new Dictionary<string, ToolParameterKind>(StringComparer.Ordinal);
            if (function["parameters"] is JsonObject parameters && parameters["properties"] is JsonObject properties)
                foreach (var (key, schema) in properties)
                    kinds[key] = KindOf(schema as JsonObject);
            _tools[name] = kinds;
            MaxNameLength = Math.Max(MaxNameLength, name.Length);
        }
    }

    public int Count => _tools.Count;

    public int MaxNameLength { get; }

    public bool IsDeclared(string name) => _tools.ContainsKey(name);

    /// <summary>True when some declared name starts with <paramref name="prefix"/> (used to decide early that a tag is prose).</summary>
    public bool IsNamePrefix(ReadOnlySpan<char> prefix)
    {
        foreach (string name in _tools.Keys)
            if (name.AsSpan().StartsWith(prefix, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>Conversion kind of a parameter; unknown tools and parameters give <see cref="ToolParameterKind.String"/> (raw string).</summary>
    public ToolParameterKind KindOf(string toolName, string parameter) =>
        _tools.TryGetValue(toolName, out var kinds) && kinds.TryGetValue(parameter, out var kind) ? kind : ToolParameterKind.String;

    private static ToolParameterKind KindOf(JsonObject? schema)
    {
        if (schema is null) return ToolParameterKind.String;
        string? type = null;
        switch (schema["type"])
        {
            case JsonValue v when v.TryGetValue(out string? s):
                type = s;
                break;
            case JsonArray list:
                // ["integer", "null"]: the first non-null entry decides (README rule 4).
                foreach (var item in list)
                    if (item is JsonValue iv && iv.TryGetValue(out string? s2) && s2 != "null") { type = s2; break; }
                break;
        }
        return type switch
        {
            "integer" => ToolParameterKind.Integer,
            "number" => ToolParameterKind.Number,
            "boolean" => ToolParameterKind.Boolean,
            "object" or "array" => ToolParameterKind.Container,
            _ => ToolParameterKind.String,
        };
    }
}
