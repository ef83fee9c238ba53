using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepSharp.Tests.Chat.Parsing;

/// <summary>JSON equality as the testdata README defines it: numbers by value, object key order ignored.</summary>
internal static class JsonSemantic
{
    public static bool Equal(JsonNode? a, JsonNode? b)
    {
        if (a is null || b is null) return a is null && b is null;
        switch (a)
        {
            case JsonObject oa when b is JsonObject ob:
                if (oa.Count != ob.Count) return false;
                foreach (var (key, value) in oa)
                    if (!ob.TryGetPropertyValue(key, out var other) || !Equal(value, other)) return false;
                return true;
            case JsonArray aa when b is JsonArray ab:
                if (aa.Count != ab.Count) return false;
                for (int i = 0; i < aa.Count; i++)
                    if (!Equal(aa[i], ab[i])) return false;
                return true;
            case JsonValue va when b is JsonValue vb:
                var ka = va.GetValueKind();
                var kb = vb.GetValueKind();
                if (ka != kb) return false;
                if (ka == JsonValueKind.Number)
                    return decimal.Parse(va.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture)
                        == decimal.Parse(vb.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                return ka is JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null
                    || va.GetValue<string>() == vb.GetValue<string>();
            default:
                return false;
        }
    }
}
