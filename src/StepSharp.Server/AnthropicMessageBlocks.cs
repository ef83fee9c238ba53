using System.Text;
using System.Text.Json.Nodes;
using StepSharp.Chat.Parsing;

namespace StepSharp.Server;

/// <summary>
/// Parser output as Anthropic content blocks: reasoning → <c>thinking</c>, content → <c>text</c>, each tool call →
/// <c>tool_use</c>. Each <see cref="Apply"/> returns the stream events it causes (block start, deltas, block stop),
/// and <see cref="Content"/> gives the final blocks.
/// </summary>
internal sealed class AnthropicMessageBlocks
{
    private readonly List<(string Type, StringBuilder Text, string? Id, string? Name)> _blocks = [];
    private bool _open;

    public bool SawToolUse { get; private set; }

    public List<(string Event, JsonObject Data)> Apply(ParserDelta delta)
    {
        var events = new List<(string, JsonObject)>();
        foreach (var e in delta.Events)
        {
            switch (e.Kind)
            {
                case ParserEventKind.Reasoning:
                    Append(events, "thinking", e.Text, () => new JsonObject { ["type"] = "thinking", ["thinking"] = "", ["signature"] = "" },
                        t => new JsonObject { ["type"] = "thinking_delta", ["thinking"] = t });
                    break;
                case ParserEventKind.Content:
                    Append(events, "text", e.Text, () => new JsonObject { ["type"] = "text", ["text"] = "" },
                        t => new JsonObject { ["type"] = "text_delta", ["text"] = t });
                    break;
                case ParserEventKind.ToolCallStart:
                    SawToolUse = true;
                    Close(events);
                    _blocks.Add(("tool_use", new StringBuilder(), e.ToolCallId, e.ToolCallName));
                    _open = true;
                    events.Add(("content_block_start", new JsonObject
                    {
                        ["type"] = "content_block_start", ["index"] = _blocks.Count - 1,
                        ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = e.ToolCallId, ["name"] = e.ToolCallName, ["input"] = new JsonObject() },
                    }));
                    break;
                case ParserEventKind.ToolCallArguments:
                    _blocks[^1].Text.Append(e.Text);
                    events.Add(("content_block_delta", Delta(new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = e.Text })));
                    break;
            }
        }
        return events;
    }

    /// <summary>Closes the open block (end of the message).</summary>
    public List<(string Event, JsonObject Data)> Finish()
    {
        var events = new List<(string, JsonObject)>();
        Close(events);
        return events;
    }

    /// <summary>The final blocks; whitespace-only text between tool calls is dropped (OpenAI's content is null then too).</summary>
    public JsonArray Content()
    {
        var content = new JsonArray();
        foreach (var (type, text, id, name) in _blocks)
        {
            if (type == "text" && string.IsNullOrWhiteSpace(text.ToString())) continue;
            content.Add(type switch
            {
                "thinking" => new JsonObject { ["type"] = "thinking", ["thinking"] = text.ToString(), ["signature"] = "" },
                "text" => new JsonObject { ["type"] = "text", ["text"] = text.ToString() },
                _ => new JsonObject { ["type"] = "tool_use", ["id"] = id, ["name"] = name, ["input"] = JsonNode.Parse(text.Length == 0 ? "{}" : text.ToString()) },
            });
        }
        return content;
    }

    private void Append(List<(string, JsonObject)> events, string type, string text, Func<JsonObject> start, Func<string, JsonObject> delta)
    {
        if (!_open || _blocks[^1].Type != type)
        {
            Close(events);
            _blocks.Add((type, new StringBuilder(), null, null));
            _open = true;
            events.Add(("content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = _blocks.Count - 1, ["content_block"] = start() }));
        }
        _blocks[^1].Text.Append(text);
        events.Add(("content_block_delta", Delta(delta(text))));
    }

    private JsonObject Delta(JsonObject delta) => new() { ["type"] = "content_block_delta", ["index"] = _blocks.Count - 1, ["delta"] = delta };

    private void Close(List<(string, JsonObject)> events)
    {
        if (!_open) return;
        _open = false;
        events.Add(("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = _blocks.Count - 1 }));
    }
}
