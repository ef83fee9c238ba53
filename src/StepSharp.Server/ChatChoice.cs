using System.Text.Json.Nodes;
using StepSharp.Chat.Parsing;
using StepSharp.Inference;
using StepSharp.Tokenization;

namespace StepSharp.Server;

/// <summary>
/// One choice of a chat completion: feeds generated text through the model's output parser and shapes what comes
/// out as OpenAI chat JSON (streamed deltas, or the final message). Reasoning goes to <c>reasoning_content</c>,
/// tool calls to <c>tool_calls</c> with JSON-string arguments.
/// </summary>
internal sealed class ChatChoice
{
    private readonly IModelOutputParser? _parser;
    private readonly ITokenizer _tokenizer;
    private readonly bool _parallelToolCalls;
    private readonly System.Text.StringBuilder _plain = new();
    private readonly JsonArray _logprobs = [];

    public ChatChoice(int index, string? outputFormat, JsonArray? tools, bool thinkingOpened, bool parallelToolCalls, ITokenizer tokenizer)
    {
        Index = index;
        _parser = outputFormat is null ? null : ModelOutputParsers.Create(outputFormat, tools, thinkingOpened);
        _parallelToolCalls = parallelToolCalls;
        _tokenizer = tokenizer;
    }

    public int Index { get; }
    public GenerationResult? Result { get; private set; }
    public bool SawToolCall { get; private set; }

    /// <summary>A generated token; returns the streaming delta it completes (null when nothing is to be sent).</summary>
    public JsonObject? Push(GeneratedToken token, bool logprobs)
    {
        JsonArray? entries = null;
        if (logprobs && token.TokenId >= 0)
        {
            var entry = LogprobJson.ChatEntry(_tokenizer, token);
            _logprobs.Add(entry);
            entries = [entry.DeepClone()];
        }
        JsonObject? delta = token.Text.Length == 0 ? null : Delta(_parser is null ? Plain(token.Text) : _parser.Push(token.Text));
        if (delta is null && entries is null) return null;
        return Chunk(delta ?? [], entries is null ? null : new JsonObject { ["content"] = entries }, null);
    }

    /// <summary>The end: the parser's last delta (if any) and the finish chunk.</summary>
    public IEnumerable<JsonObject> Finish(GenerationResult result)
    {
        Result = result;
        if (_parser is not null && Delta(_parser.Finish()) is { } last) yield return Chunk(last, null, null);
        yield return Chunk([], null, FinishReason);
    }

    public string FinishReason => Result!.FinishReason switch
    {
        Inference.FinishReason.Length => "length",
        _ => SawToolCall ? "tool_calls" : "stop",
    };

    /// <summary>The non-streamed choice: <c>message</c> with content, reasoning_content and tool_calls.</summary>
    public JsonObject Message(bool logprobs)
    {
        var message = new JsonObject { ["role"] = "assistant" };
        if (_parser is null)
        {
            message["content"] = _plain.ToString();
        }
        else
        {
            var parsed = _parser.Result;
            message["content"] = parsed.Content;
            if (parsed.ReasoningContent is not null) message["reasoning_content"] = parsed.ReasoningContent;
            var calls = new JsonArray();
            foreach (var call in parsed.ToolCalls)
            {
                calls.Add(new JsonObject { ["id"] = call.Id, ["type"] = "function", ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.ArgumentsJson } });
                if (!_parallelToolCalls) break;
            }
            if (calls.Count > 0) message["tool_calls"] = calls;
        }
        return new JsonObject
        {
            ["index"] = Index,
            ["message"] = message,
            ["logprobs"] = logprobs ? new JsonObject { ["content"] = _logprobs.DeepClone() } : null,
            ["finish_reason"] = FinishReason,
        };
    }

    private ParserDelta Plain(string text)
    {
        _plain.Append(text);
        return new ParserDelta([new ParserEvent(ParserEventKind.Content, text)]);
    }

    private JsonObject? Delta(ParserDelta delta)
    {
        if (delta.IsEmpty) return null;
        var o = new JsonObject();
        if (delta.Reasoning is { } reasoning) o["reasoning_content"] = reasoning;
        if (delta.Content is { } content) o["content"] = content;
        var calls = new JsonArray();
        foreach (var call in delta.ToolCalls)
        {
            SawToolCall = true;
            if (!_parallelToolCalls && call.Index > 0) continue; // parallel_tool_calls=false: the first call only
            var function = new JsonObject();
            if (call.Name is not null) function["name"] = call.Name;
            function["arguments"] = call.Arguments;
            var c = new JsonObject { ["index"] = call.Index };
            if (call.Id is not null) { c["id"] = call.Id; c["type"] = "function"; }
            c["function"] = function;
            calls.Add(c);
        }
        if (calls.Count > 0) o["tool_calls"] = calls;
        return o.Count == 0 ? null : o;
    }

    /// <summary>A <c>choices[]</c> element of a streaming chunk.</summary>
    public JsonObject Chunk(JsonObject delta, JsonObject? logprobs, string? finishReason) => new()
    {
        ["index"] = Index,
        ["delta"] = delta,
        ["logprobs"] = logprobs,
        ["finish_reason"] = finishReason,
    };
}
