using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepSharp.Cli;

/// <summary>Reading the JSON files commands take, with errors that name the file and option, and writing JSON results.</summary>
internal static class CliJson
{
    /// <summary>Pretty JSON that keeps non-ASCII text readable (results are for people and scripts, not HTML).</summary>
    public static readonly JsonSerializerOptions Output = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonArray ReadArray(FileInfo file, string option)
    {
        if (!file.Exists) throw new FileNotFoundException($"{option}: file '{file.FullName}' does not exist", file.FullName);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(file.FullName));
        }
        catch (JsonException e)
        {
            throw new FormatException($"{option}: {file.FullName} is not valid JSON: {e.Message}");
        }
        return node as JsonArray ?? throw new FormatException($"{option}: {file.FullName} must hold a JSON array, not {node?.GetValueKind().ToString() ?? "null"}");
    }

    /// <summary>Parses <c>NAME=JSON</c> template variables (e.g. <c>enable_thinking=false</c>).</summary>
    public static Dictionary<string, JsonNode?> ReadVariables(IEnumerable<string> assignments)
    {
        var result = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (string assignment in assignments)
        {
            int eq = assignment.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--var '{assignment}': expected NAME=JSON, e.g. enable_thinking=false");
            string name = assignment[..eq];
            try
            {
                result[name] = JsonNode.Parse(assignment[(eq + 1)..]);
            }
            catch (JsonException e)
            {
                throw new ArgumentException($"--var {name}: the value is not JSON ({e.Message}); quote strings, e.g. {name}=\"\\\"low\\\"\"");
            }
        }
        return result;
    }
}
