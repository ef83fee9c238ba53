using System.Text.Json.Nodes;

namespace StepSharp.Server;

/// <summary>
/// A request the server refuses, answered with an OpenAI-style error object
/// <c>{"error":{"message","type","param","code"}}</c> and <see cref="StatusCode"/>.
/// </summary>
public sealed class ApiException(int statusCode, string message, string? param = null, string? code = null, string? type = null)
    : Exception(message)
{
    public int StatusCode { get; } = statusCode;
    public string? Param { get; } = param;
    public string? Code { get; } = code;
    public string Type { get; } = type ?? DefaultType(statusCode);

    /// <summary>400 invalid_request_error naming the offending field.</summary>
    public static ApiException BadRequest(string message, string? param = null, string? code = null) => new(400, message, param, code);

    public static string DefaultType(int status) => status switch
    {
        401 => "authentication_error",
        404 => "not_found_error",
        413 => "invalid_request_error",
        429 => "rate_limit_error",
        503 => "server_unavailable_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    public JsonObject ToJson() => ErrorJson(Message, Type, Param, Code);

    public static JsonObject ErrorJson(string message, string type, string? param, string? code) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = type,
            ["param"] = param,
            ["code"] = code,
        },
    };
}
