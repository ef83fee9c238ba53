using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepSharp.Server;

/// <summary>
/// Turns an Anthropic Messages API request (POST /v1/messages) into the equivalent OpenAI chat request, so one
/// validator and one template path serve both: <c>system</c> → a system message, text blocks → content,
/// <c>thinking</c> blocks → reasoning_content, <c>tool_use</c> → tool_calls, <c>tool_result</c> → tool messages,
/// <c>input_schema</c> → parameters, <c>stop_sequences</c> → stop, <c>tool_choice</c> any/tool → required/named.
/// </summary>
internal static class AnthropicRequestTranslator
{
    public static JsonObject ToOpenAI(JsonObject body)
    {
        var output = new JsonObject();
        if (JsonFields.Integer(body, "max_tokens", 1, int.MaxValue) is not { } maxTokens) throw ApiException.BadRequest("'max_tokens' is required", "max_tokens");
        output["max_tokens"] = maxTokens;
        foreach (string copied in (string[])["model", "temperature", "top_p", "top_k", "stream"])
            if (body[copied] is { } v) output[copied] = v.DeepClone();
        if (JsonFields.Array(body, "stop_sequences") is { } stops) output["stop"] = stops.DeepClone();

        var messages = new JsonArray();
        if (body["system"] is { } system) messages.Add(new JsonObject { ["role"] = "system", ["content"] = Text(system, "system") });
        var input = JsonFields.Array(body, "messages") ?? throw ApiException.BadRequest("'messages' is required", "messages");
        if (input.Count == 0) throw ApiException.BadRequest("'messages' must hold at least one message", "messages");
        for (int i = 0; i < input.Count; i++) AddMessage(messages, JsonFields.RequireObject(input[i], $"messages[{i}]"), $"messages[{i}]");
        output["messages"] = messages;

        if (JsonFields.Array(body, "tools") is { } tools)
        {
            var converted = new JsonArray();
            for (int i = 0; i < tools.Count; i++)
            {
                var tool = JsonFields.RequireObject(tools[i], $"tools[{i}]");
                var function = new JsonObject { ["name"] = JsonFields.String(tool, "name", $"tools[{i}].name") ?? throw ApiException.BadRequest($"'tools[{i}].name' is required", $"tools[{i}].name") };
                if (JsonFields.String(tool, "description", $"tools[{i}].description") is { } d) function["description"] = d;
                if (JsonFields.Object(tool, "input_schema", $"tools[{i}].input_schema") is { } schema) function["parameters"] = schema.DeepClone();
                converted.Add(new JsonObject { ["type"] = "function", ["function"] = function });
            }
            output["tools"] = converted;
        }
        if (JsonFields.Object(body, "tool_choice") is { } choice)
        {
            output["tool_choice"] = JsonFields.String(choice, "type", "tool_choice.type") switch
            {
                "auto" => "auto",
                "none" => "none",
                "any" => "required",
                "tool" => new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = JsonFields.String(choice, "name", "tool_choice.name") } },
                var other => throw ApiException.BadRequest($"'tool_choice.type' is '{other}'; expected auto, any, tool or none", "tool_choice.type"),
            };
            if (JsonFields.Bool(choice, "disable_parallel_tool_use", "tool_choice.disable_parallel_tool_use") == true) output["parallel_tool_calls"] = false;
        }
        return output;
    }

    private static void AddMessage(JsonArray messages, JsonObject m, string at)
    {
        string role = JsonFields.String(m, "role", $"{at}.role") ?? throw ApiException.BadRequest($"'{at}.role' is required", $"{at}.role");
        if (role is not ("user" or "assistant")) throw ApiException.BadRequest($"'{at}.role' is '{role}'; expected user or assistant", $"{at}.role");
        var content = m["content"] ?? throw ApiException.BadRequest($"'{at}.content' is required", $"{at}.content");
        if (content is JsonValue) { messages.Add(new JsonObject { ["role"] = role, ["content"] = Text(content, $"{at}.content") }); return; }
        if (content is not JsonArray blocks) throw ApiException.BadRequest($"'{at}.content' must be a string or an array of content blocks", $"{at}.content");

        var text = new System.Text.StringBuilder();
        string? reasoning = null;
        var calls = new JsonArray();
        for (int i = 0; i < blocks.Count; i++)
        {
            string p = $"{at}.content[{i}]";
            var block = JsonFields.RequireObject(blocks[i], p);
            switch (JsonFields.String(block, "type", $"{p}.type"))
            {
                case "text":
                    text.Append(JsonFields.String(block, "text", $"{p}.text"));
                    break;
                case "thinking" when role == "assistant":
                    reasoning = JsonFields.String(block, "thinking", $"{p}.thinking");
                    break;
                case "tool_use" when role == "assistant":
                    calls.Add(new JsonObject
                    {
                        ["id"] = JsonFields.String(block, "id", $"{p}.id"),
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = JsonFields.String(block, "name", $"{p}.name"),
                            ["arguments"] = (JsonFields.Object(block, "input", $"{p}.input") ?? []).ToJsonString(),
                        },
                    });
                    break;
                case "tool_result" when role == "user":
                    messages.Add(new JsonObject
                    {
                        ["role"] = "tool",
                        ["tool_call_id"] = JsonFields.String(block, "tool_use_id", $"{p}.tool_use_id"),
                        ["content"] = block["content"] is { } result ? Text(result, $"{p}.content") : "",
                    });
                    break;
                case var other:
                    throw ApiException.BadRequest($"'{p}.type' is '{other}'; supported: text, thinking and tool_use (assistant), tool_result (user)", $"{p}.type");
            }
        }
        if (text.Length == 0 && calls.Count == 0 && reasoning is null) return; // only tool results
        var message = new JsonObject { ["role"] = role, ["content"] = text.ToString() };
        if (reasoning is not null) message["reasoning_content"] = reasoning;
        if (calls.Count > 0) message["tool_calls"] = calls;
        messages.Add(message);
    }

    /// <summary>A string, or text blocks joined.</summary>
    private static string Text(JsonNode node, string at)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        if (node is not JsonArray blocks) throw ApiException.BadRequest($"'{at}' must be a string or an array of text blocks, got {JsonFields.Describe(node)}", at);
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < blocks.Count; i++)
        {
            var block = JsonFields.RequireObject(blocks[i], $"{at}[{i}]");
            if (JsonFields.String(block, "type", $"{at}[{i}].type") != "text")
                throw ApiException.BadRequest($"'{at}[{i}].type' must be text", $"{at}[{i}].type");
            text.Append(JsonFields.String(block, "text", $"{at}[{i}].text"));
        }
        return text.ToString();
    }
}
