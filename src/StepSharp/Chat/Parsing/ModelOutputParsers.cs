using System.Text.Json.Nodes;

namespace StepSharp.Chat.Parsing;

/// <summary>Creates the output parser of a model family by its format name.</summary>
public static class ModelOutputParsers
{
    /// <summary>Format names this factory knows.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["step35"];

    /// <param name="format"><c>step35</c> (Step 3.5 Flash: think block + Qwen3-Coder-style XML tool calls).</param>
    /// <param name="tools">The request's <c>tools</c> array (OpenAI shape), or null when the request has none.</param>
    /// <param name="thinkingOpenedInPrompt">The prompt ended with <c>&lt;think&gt;</c>, so the output starts inside reasoning.</param>
    public static IModelOutputParser Create(string format, JsonArray? tools, bool thinkingOpenedInPrompt = true) => format switch
    {
        "step35" => new Step35OutputParser(new ToolSchemaSet(tools), thinkingOpenedInPrompt),
        _ => throw new ArgumentException($"Unknown model output format '{format}'; known: {string.Join(", ", Formats)}.", nameof(format)),
    };

    /// <summary>Parses a complete (non-streamed) completion in one go.</summary>
    public static ParsedOutput Parse(string format, string raw, JsonArray? tools, bool thinkingOpenedInPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var parser = Create(format, tools, thinkingOpenedInPrompt);
        parser.Push(raw);
        parser.Finish();
        return parser.Result;
    }
}
