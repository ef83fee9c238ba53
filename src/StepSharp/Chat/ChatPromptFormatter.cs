using System.Text.Json.Nodes;
using StepSharp.Chat.Templates;
using StepSharp.Inference;
using StepSharp.Models.Step35;

namespace StepSharp.Chat;

/// <summary>
/// Turns OpenAI-style chat messages (and tools) into the prompt text the model was trained on, by rendering
/// the model's own Jinja chat template as Hugging Face transformers does, and says how to parse the output.
/// </summary>
public sealed class ChatPromptFormatter
{
    public const string TemplateKey = "tokenizer.chat_template";

    public ChatPromptFormatter(ChatTemplate template, string? bosToken, string? eosToken, string? outputFormat)
    {
        Template = template;
        BosToken = bosToken;
        EosToken = eosToken;
        OutputFormat = outputFormat;
    }

    public ChatTemplate Template { get; }
    public string? BosToken { get; }
    public string? EosToken { get; }
    /// <summary>The <see cref="Parsing.ModelOutputParsers"/> format of the model's output (null: plain text, no reasoning or tool calls).</summary>
    public string? OutputFormat { get; }

    /// <summary>
    /// The formatter for a loaded model: its GGUF template (or <paramref name="templateSource"/> when given), its BOS/EOS
    /// token texts, and the output format of its architecture.
    /// </summary>
    public static ChatPromptFormatter ForModel(LoadedModel model, string? templateSource = null)
    {
        string source = templateSource ?? model.File.Metadata.GetString(TemplateKey)
            ?? throw new InvalidDataException($"{model.File.Path}: the model has no chat template ('{TemplateKey}'); give one explicitly (e.g. --chat-template FILE)");
        var tokenizer = model.Tokenizer;
        string? bos = tokenizer.BosId >= 0 ? tokenizer.TokenText(tokenizer.BosId) : null;
        string? eos = tokenizer.EosId >= 0 ? tokenizer.TokenText(tokenizer.EosId) : null;
        string? format = model.Model.Architecture == Step35Config.Architecture ? "step35" : null;
        return new ChatPromptFormatter(ChatTemplate.Parse(source, templateSource is null ? TemplateKey : "chat template"), bos, eos, format);
    }

    /// <summary>Renders the conversation. Messages and tools are JSON in the OpenAI chat format.</summary>
    public string Render(JsonArray messages, JsonArray? tools = null, bool addGenerationPrompt = true, IReadOnlyDictionary<string, JsonNode?>? variables = null)
        => ChatTemplateRenderer.RenderChat(Template, messages, tools, addGenerationPrompt, BosToken, EosToken, variables);

    /// <summary>Whether a rendered prompt leaves the model inside an opened think block (spec §6.2).</summary>
    public static bool OpensThinking(string prompt) => prompt.TrimEnd('\n', ' ').EndsWith("<think>", StringComparison.Ordinal);
}
