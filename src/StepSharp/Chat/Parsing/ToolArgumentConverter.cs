using System.Globalization;
using System.Numerics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepSharp.Chat.Parsing;

/// <summary>
/// Converts one raw parameter value (already stripped of its one leading/trailing newline) to JSON text by
/// the declared schema type — spec §6.3 step 4 and the testdata README rule 4. Anything that does not
/// convert falls back to the raw string, never to an error.
/// </summary>
public static class ToolArgumentConverter
{
    private static readonly JsonSerializerOptions CompactRelaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>True when the value means JSON null for every type (vLLM and SGLang compare case-insensitively).</summary>
    public static bool IsNullLiteral(ReadOnlySpan<char> value) => value.Equals("null", StringComparison.OrdinalIgnoreCase);

    public static string ToJson(string value, ToolParameterKind kind)
    {
        if (IsNullLiteral(value)) return "null";
        return kind switch
        {
            ToolParameterKind.Integer => TryInteger(value) ?? JsonText.Quoted(value),
            ToolParameterKind.Number => TryNumber(value) ?? JsonText.Quoted(value),
            ToolParameterKind.Boolean => TryBoolean(value) ?? JsonText.Quoted(value),
            ToolParameterKind.Container => TryJson(value) ?? PythonLiteral.TryToJson(value) ?? JsonText.Quoted(value),
            _ => JsonText.Quoted(value),
        };
    }

    /// <summary>Optional sign + ASCII digits, spaces around allowed; normalised (no '+', no leading zeros).</summary>
    private static string? TryInteger(string value)
    {
        ReadOnlySpan<char> s = value.AsSpan().Trim();
        int start = s.Length > 0 && (s[0] == '+' || s[0] == '-') ? 1 : 0;
        if (s.Length == start) return null;
        for (int i = start; i < s.Length; i++)
            if (!char.IsAsciiDigit(s[i])) return null;
        return BigInteger.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A finite decimal/exponent number; integral values print as integers like vLLM (3.0 → 3, 1e3 → 1000).</summary>
    private static string? TryNumber(string value)
    {
        ReadOnlySpan<char> s = value.AsSpan().Trim();
        if (s.Length == 0) return null;
        // Only the characters of a plain float literal: rejects "Infinity", "NaN", hex and currency forms .NET would accept.
        foreach (char c in s)
            if (!(char.IsAsciiDigit(c) || c is '+' or '-' or '.' or 'e' or 'E')) return null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d)) return null;
        if (d == Math.Floor(d) && Math.Abs(d) < 1e15) return ((long)d).ToString(CultureInfo.InvariantCulture);
        return d.ToString("R", CultureInfo.InvariantCulture);
    }

    private static string? TryBoolean(string value)
    {
        ReadOnlySpan<char> s = value.AsSpan().Trim();
        if (s.Equals("true", StringComparison.OrdinalIgnoreCase) || s.SequenceEqual("1")) return "true";
        if (s.Equals("false", StringComparison.OrdinalIgnoreCase) || s.SequenceEqual("0")) return "false";
        return null;
    }

    private static string? TryJson(string value)
    {
        try
        {
            JsonNode? node = JsonNode.Parse(value);
            return node is null ? "null" : node.ToJsonString(CompactRelaxed);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null; // duplicate keys: let the Python-literal reader (last key wins) try
        }
    }
}
