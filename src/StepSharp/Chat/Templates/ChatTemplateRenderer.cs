using System.Text.Json.Nodes;

namespace StepSharp.Chat.Templates;

/// <summary>
/// Builds the variables transformers' <c>apply_chat_template</c> passes and renders: messages, tools
/// (None when absent, so <c>tools is defined</c> holds), documents=None, add_generation_prompt, the special
/// tokens that are set (an unset token is left undefined), then every extra keyword (enable_thinking, ...).
/// </summary>
public static class ChatTemplateRenderer
{
    public static string RenderChat(
        ChatTemplate template,
        JsonArray messages,
        JsonArray? tools,
        bool addGenerationPrompt,
        string? bosToken,
        string? eosToken,
        IReadOnlyDictionary<string, JsonNode?>? extraVariables = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(messages);
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = messages,
            ["tools"] = tools,
            ["documents"] = null,
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        if (bosToken is not null) variables["bos_token"] = bosToken;
        if (eosToken is not null) variables["eos_token"] = eosToken;
        if (extraVariables is not null)
            foreach (var kv in extraVariables) variables[kv.Key] = kv.Value;
        return template.Render(variables);
    }
}
