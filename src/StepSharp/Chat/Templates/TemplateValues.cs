using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepSharp.Chat.Templates;

/// <summary>
/// Converts caller data (JsonNode trees, JsonElement, or plain CLR values) into template values the way
/// Python's json.loads would: integers stay int, numbers with a fraction or exponent become float.
/// </summary>
internal static class TemplateValues
{
    public static object? FromClr(object? value) => value switch
    {
        null => null,
        string or bool or long or double => value,
        int i => (long)i,
        short s => (long)s,
        byte b => (long)b,
        uint u => (long)u,
        ulong ul => (long)ul,
        float f => (double)f,
        decimal m => (double)m,
        JsonNode node => FromJson(node),
        JsonElement element => FromJson(element),
        DateTime dt => dt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        IDictionary dict => FromDictionary(dict),
        IEnumerable<KeyValuePair<string, object?>> pairs => FromPairs(pairs),
        IEnumerable items => FromEnumerable(items),
        _ => throw new ArgumentException($"cannot pass a value of type {value.GetType().Name} to a chat template"),
    };

    public static object? FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null: return null;
            case JsonObject obj:
            {
                var dict = new PyDict(obj.Count);
                foreach (var kv in obj) dict[kv.Key] = FromJson(kv.Value);
                return dict;
            }
            case JsonArray array:
            {
                var list = new List<object?>(array.Count);
                foreach (JsonNode? item in array) list.Add(FromJson(item));
                return list;
            }
            case JsonValue value:
                if (value.TryGetValue(out JsonElement element)) return FromJson(element);
                if (value.TryGetValue(out string? s)) return s;
                if (value.TryGetValue(out bool b)) return b;
                if (value.TryGetValue(out long l)) return l;
                if (value.TryGetValue(out int i)) return (long)i;
                if (value.TryGetValue(out double d)) return d;
                return FromJson(JsonSerializer.SerializeToElement(value));
            default: return null;
        }
    }

    public static object? FromJson(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var dict = new PyDict();
                foreach (JsonProperty p in element.EnumerateObject()) dict[p.Name] = FromJson(p.Value);
                return dict;
            }
            case JsonValueKind.Array:
            {
                var list = new List<object?>(element.GetArrayLength());
                foreach (JsonElement item in element.EnumerateArray()) list.Add(FromJson(item));
                return list;
            }
            case JsonValueKind.String: return element.GetString();
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            case JsonValueKind.Number:
                string raw = element.GetRawText();
                // json.loads: "3" is int, "3.0" and "3e0" are float.
                if (raw.AsSpan().IndexOfAny(".eE") < 0 && element.TryGetInt64(out long l)) return l;
                return element.GetDouble();
            default: return null;
        }
    }

    private static PyDict FromDictionary(IDictionary dict)
    {
        var result = new PyDict(dict.Count);
        foreach (DictionaryEntry e in dict) result[FromClr(e.Key) ?? throw new ArgumentException("null dictionary key")] = FromClr(e.Value);
        return result;
    }

    private static PyDict FromPairs(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var result = new PyDict();
        foreach (var kv in pairs) result[kv.Key] = FromClr(kv.Value);
        return result;
    }

    private static List<object?> FromEnumerable(IEnumerable items)
    {
        var result = new List<object?>();
        foreach (object? item in items) result.Add(FromClr(item));
        return result;
    }
}
