using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepSharp.Server;

/// <summary>
/// Typed reads of request fields. A field of the wrong type or out of range is a 400 whose message and
/// <c>param</c> name the field, so a client learns exactly what to fix.
/// </summary>
internal static class JsonFields
{
    public static JsonObject RequireObject(JsonNode? node, string what)
        => node as JsonObject ?? (what == "request body"
            ? throw ApiException.BadRequest($"the request body must be a JSON object, got {Describe(node)}")
            : throw ApiException.BadRequest($"'{what}' must be a JSON object, got {Describe(node)}", what));

    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
        _ => "a value",
    };

    public static bool Has(JsonObject o, string name) => o.TryGetPropertyValue(name, out var v) && v is not null;

    public static string? String(JsonObject o, string name, string? param = null)
    {
        if (!o.TryGetPropertyValue(name, out var v) || v is null) return null;
        if (v is JsonValue value && value.GetValueKind() == JsonValueKind.String) return value.GetValue<string>();
        throw ApiException.BadRequest($"'{param ?? name}' must be a string, got {Describe(v)}", param ?? name);
    }

    public static bool? Bool(JsonObject o, string name, string? param = null)
    {
        if (!o.TryGetPropertyValue(name, out var v) || v is null) return null;
        if (v is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return value.GetValue<bool>();
        throw ApiException.BadRequest($"'{param ?? name}' must be a boolean, got {Describe(v)}", param ?? name);
    }

    public static double? Number(JsonObject o, string name, double min, double max, string? param = null)
    {
        if (!o.TryGetPropertyValue(name, out var v) || v is null) return null;
        string p = param ?? name;
        if (v is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
            throw ApiException.BadRequest($"'{p}' must be a number, got {Describe(v)}", p);
        double d = value.GetValue<double>();
        if (!(d >= min && d <= max)) throw ApiException.BadRequest($"'{p}' must be between {min} and {max}, got {d}", p);
        return d;
    }

    public static long? Integer(JsonObject o, string name, long min, long max, string? param = null)
    {
        if (!o.TryGetPropertyValue(name, out var v) || v is null) return null;
        string p = param ?? name;
        if (v is not JsonValue value || value.GetValueKind() != JsonValueKind.Number)
            throw ApiException.BadRequest($"'{p}' must be an integer, got {Describe(v)}", p);
        if (!value.TryGetValue(out long l))
        {
            double d = value.GetValue<double>();
            if (d != Math.Floor(d) || d < long.MinValue || d > long.MaxValue) throw ApiException.BadRequest($"'{p}' must be an integer, got {d}", p);
            l = (long)d;
        }
        if (l < min || l > max) throw ApiException.BadRequest($"'{p}' must be between {min} and {max}, got {l}", p);
        return l;
    }

    public static JsonArray? Array(JsonObject o, string name, string? param = null)
    {
        if (!o.TryGetPropertyValue(name, out var v) || v is null) return null;
        return v as JsonArray ?? throw ApiException.BadRequest($"'{param ?? name}' must be an array, got {Describe(v)}", param ?? name);
    }

    public static JsonObject? Object(JsonObject o, string name, string? param = null)
    {
        if (!o.TryGetPropertyValue(name, out var v) || v is null) return null;
        return v as JsonObject ?? throw ApiException.BadRequest($"'{param ?? name}' must be an object, got {Describe(v)}", param ?? name);
    }

    /// <summary>Parses a request body; malformed JSON is a 400 with the parser's position.</summary>
    public static JsonObject ParseBody(string body)
    {
        if (string.IsNullOrWhiteSpace(body)) throw ApiException.BadRequest("the request body is empty; a JSON object is expected");
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"the request body is not valid JSON: {e.Message}", code: "invalid_json");
        }
        return RequireObject(node, "request body");
    }
}
