using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace StepSharp.Server;

/// <summary>How the request lets the model use tools (OpenAI <c>tool_choice</c>).</summary>
internal enum ToolChoiceMode { Auto, None, Required, Named }

/// <summary>A validated chat request: messages and tools ready for the chat template, and the generation settings.</summary>
internal sealed record ChatRequest(JsonArray Messages, JsonArray? Tools, ToolChoiceMode ToolChoice, string? ToolName,
    bool ParallelToolCalls, string? ResponseFormat, GenerationRequest Generation, string? Model);

/// <summary>
/// Reads an OpenAI chat completion request into what the chat template expects: content parts joined into one
/// string, <c>developer</c> as <c>system</c>, assistant tool-call arguments decoded from their JSON strings to
/// objects (the template iterates them), reasoning_content kept for the template to re-insert.
/// </summary>
internal static partial class ChatRequestReader
{
    public static ChatRequest Read(JsonObject body, ServedModel model, int maxChoices)
    {
        var messagesIn = JsonFields.Array(body, "messages") ?? throw ApiException.BadRequest("'messages' is required", "messages");
        if (messagesIn.Count == 0) throw ApiException.BadRequest("'messages' must hold at least one message", "messages");
        var messages = new JsonArray();
        for (int i = 0; i < messagesIn.Count; i++) messages.Add(ReadMessage(messagesIn[i], $"messages[{i}]"));

        var tools = ReadTools(body);
        var (choice, name) = ReadToolChoice(body, tools);
        if (choice == ToolChoiceMode.None) tools = null;
        else if (choice == ToolChoiceMode.Named)
            tools = [.. tools!.Where(t => (string?)t!["function"]!["name"] == name).Select(t => t!.DeepClone())];

        string? format = null;
        if (JsonFields.Object(body, "response_format") is { } rf)
        {
            format = JsonFields.String(rf, "type", "response_format.type") ?? throw ApiException.BadRequest("'response_format.type' is required", "response_format.type");
            if (format is not ("text" or "json_object" or "json_schema"))
                throw ApiException.BadRequest($"'response_format.type' must be text, json_object or json_schema, got '{format}'", "response_format.type");
        }
        return new ChatRequest(messages, tools, choice, name, JsonFields.Bool(body, "parallel_tool_calls") ?? true, format,
            GenerationRequestReader.Read(body, model, chat: true, maxChoices), JsonFields.String(body, "model"));
    }

    private static JsonObject ReadMessage(JsonNode? node, string at)
    {
        var m = JsonFields.RequireObject(node, at);
        string role = JsonFields.String(m, "role", $"{at}.role") ?? throw ApiException.BadRequest($"'{at}.role' is required", $"{at}.role");
        var output = new JsonObject();
        switch (role)
        {
            case "system" or "developer" or "user":
                output["role"] = role == "developer" ? "system" : role;
                output["content"] = ReadContent(m, at, required: true);
                if (JsonFields.String(m, "name", $"{at}.name") is { } n) output["name"] = n;
                break;
            case "assistant":
                output["role"] = "assistant";
                var toolCalls = JsonFields.Array(m, "tool_calls", $"{at}.tool_calls");
                output["content"] = ReadContent(m, at, required: toolCalls is null || toolCalls.Count == 0);
                if (JsonFields.String(m, "reasoning_content", $"{at}.reasoning_content") is { } reasoning) output["reasoning_content"] = reasoning;
                if (toolCalls is { Count: > 0 }) output["tool_calls"] = ReadToolCalls(toolCalls, $"{at}.tool_calls");
                break;
            case "tool":
                output["role"] = "tool";
                output["content"] = ReadContent(m, at, required: true);
                if (JsonFields.String(m, "tool_call_id", $"{at}.tool_call_id") is { } callId) output["tool_call_id"] = callId;
                break;
            default:
                throw ApiException.BadRequest($"'{at}.role' is '{role}'; expected system, developer, user, assistant or tool", $"{at}.role");
        }
        return output;
    }

    /// <summary>A string, or an array of text parts joined (images and audio are not supported by this text-only server).</summary>
    private static string ReadContent(JsonObject m, string at, bool required)
    {
        if (!m.TryGetPropertyValue("content", out var content) || content is null)
            return required ? throw ApiException.BadRequest($"'{at}.content' is required", $"{at}.content") : "";
        if (content is JsonValue) return JsonFields.String(m, "content", $"{at}.content")!;
        if (content is not JsonArray parts) throw ApiException.BadRequest($"'{at}.content' must be a string or an array of content parts, got {JsonFields.Describe(content)}", $"{at}.content");
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < parts.Count; i++)
        {
            string p = $"{at}.content[{i}]";
            var part = JsonFields.RequireObject(parts[i], p);
            string type = JsonFields.String(part, "type", $"{p}.type") ?? throw ApiException.BadRequest($"'{p}.type' is required", $"{p}.type");
            if (type != "text") throw ApiException.BadRequest($"'{p}.type' is '{type}'; only text content parts are supported", $"{p}.type");
            text.Append(JsonFields.String(part, "text", $"{p}.text") ?? throw ApiException.BadRequest($"'{p}.text' is required", $"{p}.text"));
        }
        return text.ToString();
    }

    private static JsonArray ReadToolCalls(JsonArray calls, string at)
    {
        var output = new JsonArray();
        for (int i = 0; i < calls.Count; i++)
        {
            string p = $"{at}[{i}]";
            var call = JsonFields.RequireObject(calls[i], p);
            var function = JsonFields.Object(call, "function", $"{p}.function") ?? throw ApiException.BadRequest($"'{p}.function' is required", $"{p}.function");
            string name = JsonFields.String(function, "name", $"{p}.function.name") ?? throw ApiException.BadRequest($"'{p}.function.name' is required", $"{p}.function.name");
            JsonNode? arguments = function["arguments"] switch
            {
                null => new JsonObject(),
                JsonValue v when v.GetValueKind() == JsonValueKind.String => DecodeArguments(v.GetValue<string>(), $"{p}.function.arguments"),
                JsonObject o => o.DeepClone(),
                var other => throw ApiException.BadRequest($"'{p}.function.arguments' must be a JSON string, got {JsonFields.Describe(other)}", $"{p}.function.arguments"),
            };
            output.Add(new JsonObject
            {
                ["id"] = JsonFields.String(call, "id", $"{p}.id") ?? $"call_{i}",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
            });
        }
        return output;
    }

    /// <summary>OpenAI sends arguments as a JSON string; the template wants the object (as transformers does).</summary>
    private static JsonObject DecodeArguments(string json, string param)
    {
        if (string.IsNullOrWhiteSpace(json)) return [];
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw ApiException.BadRequest($"'{param}' must encode a JSON object", param);
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"'{param}' is not valid JSON: {e.Message}", param);
        }
    }

    private static JsonArray? ReadTools(JsonObject body)
    {
        var tools = JsonFields.Array(body, "tools");
        if (tools is null || tools.Count == 0) return null;
        var output = new JsonArray();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < tools.Count; i++)
        {
            string p = $"tools[{i}]";
            var tool = JsonFields.RequireObject(tools[i], p);
            string type = JsonFields.String(tool, "type", $"{p}.type") ?? "function";
            if (type != "function") throw ApiException.BadRequest($"'{p}.type' is '{type}'; only function tools are supported", $"{p}.type");
            var function = JsonFields.Object(tool, "function", $"{p}.function") ?? throw ApiException.BadRequest($"'{p}.function' is required", $"{p}.function");
            string name = JsonFields.String(function, "name", $"{p}.function.name") ?? throw ApiException.BadRequest($"'{p}.function.name' is required", $"{p}.function.name");
            if (!FunctionName().IsMatch(name))
                throw ApiException.BadRequest($"'{p}.function.name' is '{name}'; names are 1-64 letters, digits, '_' or '-'", $"{p}.function.name");
            if (!names.Add(name)) throw ApiException.BadRequest($"'{p}.function.name': a tool named '{name}' is already declared", $"{p}.function.name");
            var clean = new JsonObject { ["name"] = name };
            if (JsonFields.String(function, "description", $"{p}.function.description") is { } description) clean["description"] = description;
            if (JsonFields.Object(function, "parameters", $"{p}.function.parameters") is { } parameters)
            {
                if (JsonFields.String(parameters, "type", $"{p}.function.parameters.type") is { } schemaType && schemaType != "object")
                    throw ApiException.BadRequest($"'{p}.function.parameters.type' is '{schemaType}'; a tool's parameters schema must be an object", $"{p}.function.parameters.type");
                JsonFields.Object(parameters, "properties", $"{p}.function.parameters.properties");
                clean["parameters"] = parameters.DeepClone();
            }
            output.Add(new JsonObject { ["type"] = "function", ["function"] = clean });
        }
        return output;
    }

    private static (ToolChoiceMode, string?) ReadToolChoice(JsonObject body, JsonArray? tools)
    {
        if (!body.TryGetPropertyValue("tool_choice", out var node) || node is null) return (ToolChoiceMode.Auto, null);
        if (node is JsonValue)
        {
            var mode = JsonFields.String(body, "tool_choice") switch
            {
                "auto" => ToolChoiceMode.Auto,
                "none" => ToolChoiceMode.None,
                "required" => ToolChoiceMode.Required,
                var other => throw ApiException.BadRequest($"'tool_choice' is '{other}'; expected none, auto, required or a named function", "tool_choice"),
            };
            if (mode == ToolChoiceMode.Required && tools is null) throw ApiException.BadRequest("'tool_choice' is 'required' but no tools are given", "tool_choice");
            return (mode, null);
        }
        var o = JsonFields.RequireObject(node, "tool_choice");
        var function = JsonFields.Object(o, "function", "tool_choice.function") ?? throw ApiException.BadRequest("'tool_choice.function' is required", "tool_choice.function");
        string name = JsonFields.String(function, "name", "tool_choice.function.name") ?? throw ApiException.BadRequest("'tool_choice.function.name' is required", "tool_choice.function.name");
        if (tools is null || !tools.Any(t => (string?)t!["function"]!["name"] == name))
            throw ApiException.BadRequest($"'tool_choice' names the function '{name}', which is not among the tools", "tool_choice");
        return (ToolChoiceMode.Named, name);
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex FunctionName();
}
