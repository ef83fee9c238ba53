using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace StepSharp.Server;

/// <summary>JSON output settings and helpers shared by the routes.</summary>
internal static class Json
{
    /// <summary>Non-ASCII text as is (readable), still escaping what HTML would misread.</summary>
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IResult Result(JsonNode node, int status = 200)
        => Results.Content(node.ToJsonString(Options), "application/json; charset=utf-8", System.Text.Encoding.UTF8, status);

    public static string NewId(string prefix) => prefix + Guid.NewGuid().ToString("N")[..24];

    public static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();
}
