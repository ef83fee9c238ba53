using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace StepSharp.Chat;

/// <summary>
/// Converts Microsoft.Extensions.AI chat messages and tools into the OpenAI-style JSON that Hugging Face chat
/// templates read (testdata/chat-templates/README.md, "Message conventions"): tool-call arguments are JSON
/// objects, not strings (transformers passes dicts), each function result becomes its own <c>tool</c> message,
/// and reasoning travels as <c>reasoning_content</c> (read by Step 3.5, Qwen3, GLM) and <c>thinking</c> (gpt-oss).
/// </summary>
public static class ChatMessageJson
{
    public static JsonArray ToMessages(IEnumerable<ChatMessage> messages, string? instructions = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var result = new JsonArray();
        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(instructions))
            result.Add(new JsonObject { ["role"] = "system", ["content"] = instructions });
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.Assistant) AddAssistant(result, message, callNames);
            else AddOther(result, message, callNames);
        }
        return result;
    }

    /// <summary>
    /// The OpenAI <c>tools</c> array of the function declarations in <paramref name="tools"/> (other tool kinds have
    /// no template representation and are skipped), or null when there are none — templates then see <c>tools=None</c>.
    /// </summary>
    public static JsonArray? ToTools(IEnumerable<AITool>? tools)
    {
        if (tools is null) return null;
        var result = new JsonArray();
        foreach (var tool in tools)
        {
            if (tool is not AIFunctionDeclaration function) continue;
            var declaration = new JsonObject { ["name"] = function.Name };
            if (!string.IsNullOrEmpty(function.Description)) declaration["description"] = function.Description;
            declaration["parameters"] = JsonNode.Parse(function.JsonSchema.GetRawText());
            result.Add(new JsonObject { ["type"] = "function", ["function"] = declaration });
        }
        return result.Count == 0 ? null : result;
    }

    /// <summary>Tool-call arguments as the JSON object a template iterates.</summary>
    public static JsonObject ArgumentsObject(IDictionary<string, object?>? arguments)
    {
        var result = new JsonObject();
        if (arguments is null) return result;
        foreach (var (name, value) in arguments) result[name] = ToNode(value);
        return result;
    }

    /// <summary>A function result as the text of a tool message: strings as they are, anything else as JSON.</summary>
    public static string ResultText(object? result) => result switch
    {
        null => "",
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? "",
        JsonElement e => e.GetRawText(),
        JsonNode n when n.GetValueKind() == JsonValueKind.String => n.GetValue<string>(),
        JsonNode n => n.ToJsonString(),
        _ => JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions.GetTypeInfo(result.GetType())),
    };

    private static void AddAssistant(JsonArray result, ChatMessage message, Dictionary<string, string> callNames)
    {
        string text = "", reasoning = "";
        JsonArray? calls = null;
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent t: text += t.Text; break;
                case TextReasoningContent r: reasoning += r.Text; break;
                case FunctionCallContent call:
                    callNames[call.CallId] = call.Name;
                    (calls ??= []).Add(new JsonObject
                    {
                        ["id"] = call.CallId,
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = ArgumentsObject(call.Arguments) },
                    });
                    break;
            }
        }
        // Empty string, not null, for a tool-call-only turn: several templates concatenate content unconditionally.
        var json = new JsonObject { ["role"] = "assistant", ["content"] = text };
        if (reasoning.Length > 0)
        {
            json["reasoning_content"] = reasoning;
            json["thinking"] = reasoning;
        }
        if (calls is not null) json["tool_calls"] = calls;
        result.Add(json);
    }

    private static void AddOther(JsonArray result, ChatMessage message, Dictionary<string, string> callNames)
    {
        string role = message.Role == ChatRole.System ? "system" : message.Role == ChatRole.Tool ? "tool" : message.Role == ChatRole.User ? "user" : message.Role.Value;
        string text = "";
        bool hasText = false, hasResults = false;
        foreach (var content in message.Contents)
        {
            if (content is TextContent t) { text += t.Text; hasText = true; }
            else if (content is FunctionResultContent r)
            {
                hasResults = true;
                var tool = new JsonObject { ["role"] = "tool", ["tool_call_id"] = r.CallId };
                if (callNames.TryGetValue(r.CallId, out var name)) tool["name"] = name;
                tool["content"] = ResultText(r.Result ?? r.Exception?.Message);
                result.Add(tool);
            }
        }
        // A message that only carried function results was fully represented by its tool messages.
        if (hasText || !hasResults) result.Add(new JsonObject { ["role"] = role, ["content"] = text });
    }

    private static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode n => n.DeepClone(),
        JsonElement e => JsonNode.Parse(e.GetRawText()),
        _ => JsonSerializer.SerializeToNode(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())),
    };
}
