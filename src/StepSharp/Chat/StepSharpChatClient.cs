using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using StepSharp.Chat.Parsing;
using StepSharp.Inference;
using StepSharp.Inference.Sampling;

namespace StepSharp.Chat;

/// <summary>A rendered chat prompt: the template's text, its tokens, and the tools the template saw.</summary>
public sealed record ChatPrompt(string Text, int[] Tokens, JsonArray? Tools);

/// <summary>
/// <see cref="IChatClient"/> over a local model: renders the conversation with the model's own chat template, streams the
/// completion through an <see cref="ICompletionEngine"/>, and splits the raw text into reasoning
/// (<see cref="TextReasoningContent"/>), answer (<see cref="TextContent"/>) and tool calls (<see cref="FunctionCallContent"/>)
/// with the model family's output parser (spec §6). It does not run tools itself; wrap it in a
/// FunctionInvokingChatClient for that.
/// </summary>
public sealed class StepSharpChatClient : IChatClient
{
    private readonly ICompletionEngine _engine;
    private readonly ChatPromptFormatter _formatter;
    private readonly IReadOnlyList<int> _endOfGenerationIds;

    public StepSharpChatClient(ICompletionEngine engine, ChatPromptFormatter formatter)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(formatter);
        _engine = engine;
        _formatter = formatter;
        _endOfGenerationIds = ChatGenerationSettings.EndOfGenerationIds(engine.Tokenizer, formatter.OutputFormat);
        Metadata = new ChatClientMetadata("stepsharp", null, engine.Model.Description);
    }

    /// <summary>Sampling used where the request's <see cref="ChatOptions"/> leave a setting unset (StepFun evaluates at temperature 1, top-p 1; spec §6.1).</summary>
    public SamplingOptions DefaultSampling { get; init; } = new();

    /// <summary>Extra template variables for every request (e.g. <c>enable_thinking</c>).</summary>
    public IReadOnlyDictionary<string, JsonNode?>? TemplateVariables { get; init; }

    /// <summary>When false, the generated token stream is returned whole as content (no reasoning/tool-call parsing).</summary>
    public bool ParseOutput { get; init; } = true;

    public ChatClientMetadata Metadata { get; }

    /// <summary>The <see cref="ChatOptions.AdditionalProperties"/> key of per-request template variables.</summary>
    public const string ChatTemplateKwargsKey = "chat_template_kwargs";

    /// <summary>End-of-generation ids this client adds to the tokenizer's own (see <see cref="ChatGenerationSettings.EndOfGenerationIds"/>).</summary>
    public IReadOnlyList<int> EndOfGenerationIds => _endOfGenerationIds;

    /// <summary>
    /// Renders and tokenizes a conversation as a request would: control-token strings in the text become their ids, and BOS
    /// is added when the vocabulary asks for it unless the template already wrote it.
    /// </summary>
    public ChatPrompt BuildPrompt(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        var json = ChatMessageJson.ToMessages(messages, options?.Instructions);
        var tools = ChatMessageJson.ToTools(ChatGenerationSettings.VisibleTools(options));
        string text = _formatter.Render(json, tools, addGenerationPrompt: true, TemplateVariablesFor(options));
        var tokenizer = _engine.Tokenizer;
        int[] tokens = tokenizer.Encode(text, addSpecial: false, parseSpecial: true);
        if (tokenizer.AddBos && tokenizer.BosId >= 0 && (tokens.Length == 0 || tokens[0] != tokenizer.BosId))
            tokens = [tokenizer.BosId, .. tokens];
        return new ChatPrompt(text, tokens, tools);
    }

    /// <summary>
    /// <see cref="TemplateVariables"/> plus the request's <c>chat_template_kwargs</c> additional property (vLLM's name for extra
    /// template variables such as <c>enable_thinking</c>), given as a dictionary or a JSON object.
    /// </summary>
    private IReadOnlyDictionary<string, JsonNode?>? TemplateVariablesFor(ChatOptions? options)
    {
        if (options?.AdditionalProperties?.TryGetValue(ChatTemplateKwargsKey, out var kwargs) is not true || kwargs is null) return TemplateVariables;
        JsonNode? node = kwargs switch
        {
            JsonNode n => n,
            JsonElement e => JsonNode.Parse(e.GetRawText()),
            _ => JsonSerializer.SerializeToNode(kwargs, AIJsonUtilities.DefaultOptions.GetTypeInfo(kwargs.GetType())),
        };
        if (node is not JsonObject values) throw new ArgumentException($"ChatOptions.AdditionalProperties[\"{ChatTemplateKwargsKey}\"] must be a JSON object or dictionary");
        var merged = TemplateVariables is null ? new Dictionary<string, JsonNode?>() : new Dictionary<string, JsonNode?>(TemplateVariables);
        foreach (var (name, value) in values) merged[name] = value?.DeepClone();
        return merged;
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var turn = new Turn();
        await foreach (var _ in RunAsync(messages, options, turn, cancellationToken).ConfigureAwait(false)) { }
        var parsed = turn.Parser!.Result;
        var contents = new List<AIContent>();
        if (parsed.ReasoningContent is not null) contents.Add(new TextReasoningContent(parsed.ReasoningContent));
        if (parsed.Content is not null) contents.Add(new TextContent(parsed.Content));
        AddToolCalls(contents, parsed);
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents) { MessageId = turn.Id, CreatedAt = turn.CreatedAt })
        {
            ResponseId = turn.Id,
            ModelId = Metadata.DefaultModelId,
            CreatedAt = turn.CreatedAt,
            FinishReason = FinishReasonOf(turn.Result!, parsed),
            Usage = UsageOf(turn.Result!),
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var turn = new Turn();
        await foreach (var delta in RunAsync(messages, options, turn, cancellationToken).ConfigureAwait(false))
        {
            var contents = TextContents(delta);
            if (contents.Count > 0) yield return NewUpdate(turn, contents);
        }
        // Tool calls are announced once complete, as FunctionInvokingChatClient expects whole calls.
        var parsed = turn.Parser!.Result;
        var last = new List<AIContent>();
        AddToolCalls(last, parsed);
        last.Add(new UsageContent(UsageOf(turn.Result!)));
        var final = NewUpdate(turn, last);
        final.FinishReason = FinishReasonOf(turn.Result!, parsed);
        yield return final;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return Metadata;
        if (serviceType == typeof(ICompletionEngine)) return _engine;
        if (serviceType == typeof(ChatPromptFormatter)) return _formatter;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>The engine belongs to the caller (it may serve several clients), so disposing the client leaves it alone.</summary>
    public void Dispose() { }

    private sealed class Turn
    {
        public string Id { get; } = "chatcmpl-" + Guid.NewGuid().ToString("N");
        public DateTimeOffset CreatedAt { get; } = DateTimeOffset.UtcNow;
        public IModelOutputParser? Parser { get; set; }
        public GenerationResult? Result { get; set; }
    }

    /// <summary>Generates one turn, yielding the parser's deltas; on return <paramref name="turn"/> holds the finished parser and result.</summary>
    private async IAsyncEnumerable<ParserDelta> RunAsync(IEnumerable<ChatMessage> messages, ChatOptions? options, Turn turn,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var prompt = BuildPrompt(messages, options);
        var parser = CreateParser(prompt);
        turn.Parser = parser;
        int room = Math.Max(1, _engine.ContextLength - prompt.Tokens.Length);
        var request = new CompletionRequest
        {
            PromptTokens = prompt.Tokens,
            Options = ChatGenerationSettings.ToGenerationOptions(options, DefaultSampling, room, _endOfGenerationIds),
        };
        await foreach (var e in _engine.StreamAsync(request, cancellationToken).ConfigureAwait(false))
        {
            if (e is CompletionToken { Token.Text: { Length: > 0 } text })
            {
                var delta = parser.Push(text);
                if (!delta.IsEmpty) yield return delta;
            }
            else if (e is CompletionFinished finished)
            {
                turn.Result = finished.Result;
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (turn.Result is null) throw new InvalidOperationException("the completion engine ended the stream without a result");
        if (turn.Result.FinishReason == FinishReason.Cancelled) throw new OperationCanceledException("generation was cancelled", cancellationToken);
        var tail = parser.Finish();
        if (!tail.IsEmpty) yield return tail;
    }

    private IModelOutputParser CreateParser(ChatPrompt prompt) => ParseOutput && _formatter.OutputFormat is string format
        ? ModelOutputParsers.Create(format, prompt.Tools, ChatPromptFormatter.OpensThinking(prompt.Text))
        : new PlainTextOutputParser();

    private ChatResponseUpdate NewUpdate(Turn turn, IList<AIContent> contents) => new(ChatRole.Assistant, contents)
    {
        ResponseId = turn.Id,
        MessageId = turn.Id,
        ModelId = Metadata.DefaultModelId,
        CreatedAt = turn.CreatedAt,
    };

    /// <summary>Reasoning and content of a delta in output order, neighbouring pieces of one kind merged.</summary>
    private static List<AIContent> TextContents(ParserDelta delta)
    {
        var contents = new List<AIContent>();
        ParserEventKind kind = ParserEventKind.ToolCallStart;
        string text = "";
        foreach (var e in delta.Events)
        {
            if (e.Kind is not (ParserEventKind.Reasoning or ParserEventKind.Content)) continue;
            if (e.Kind != kind) Flush(contents, kind, text);
            text = e.Kind == kind ? text + e.Text : e.Text;
            kind = e.Kind;
        }
        Flush(contents, kind, text);
        return contents;

        static void Flush(List<AIContent> contents, ParserEventKind kind, string text)
        {
            if (text.Length == 0) return;
            if (kind == ParserEventKind.Reasoning) contents.Add(new TextReasoningContent(text));
            else if (kind == ParserEventKind.Content) contents.Add(new TextContent(text));
        }
    }

    private static void AddToolCalls(List<AIContent> contents, ParsedOutput parsed)
    {
        foreach (var call in parsed.ToolCalls)
            contents.Add(new FunctionCallContent(call.Id, call.Name, ArgumentsOf(call.ArgumentsJson)));
    }

    /// <summary>Arguments as JsonElement values, as OpenAI-backed clients deliver them (AIFunction binds those to parameters).</summary>
    private static Dictionary<string, object?> ArgumentsOf(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in doc.RootElement.EnumerateObject()) result[property.Name] = property.Value.Clone();
        return result;
    }

    private static ChatFinishReason FinishReasonOf(GenerationResult result, ParsedOutput parsed) => result.FinishReason switch
    {
        FinishReason.Length => ChatFinishReason.Length,
        _ => parsed.ToolCalls.Count > 0 ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
    };

    private static UsageDetails UsageOf(GenerationResult result) => new()
    {
        InputTokenCount = result.PromptTokens,
        OutputTokenCount = result.GeneratedTokens,
        TotalTokenCount = result.PromptTokens + result.GeneratedTokens,
    };
}
