using System.Text.Json;
using Microsoft.Extensions.AI;
using Spectre.Console;

namespace StepSharp.Cli;

/// <summary>
/// The read–generate–print loop of <c>stepsharp chat</c>: keeps the conversation, streams each reply with reasoning dimmed
/// and separated from the answer, and, when the model calls tools, shows each call and asks for its result to send back.
/// </summary>
internal sealed class ChatSession(IChatClient client, ChatOptions options, TextReader input, IAnsiConsole console, string? systemPrompt)
{
    private static readonly Style Dim = new(decoration: Decoration.Dim);
    private static readonly JsonSerializerOptions CompactJson = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };
    private readonly List<ChatMessage> _history = [];
    private string? _system = systemPrompt;

    public async Task RunAsync(CancellationToken cancellation)
    {
        while (true)
        {
            console.Write(new Text("you> ", new Style(Color.Green)));
            string? line = await input.ReadLineAsync(cancellation);
            if (line is null || line.Trim() == "/exit") return;
            if (line.Trim() == "/reset")
            {
                _history.Clear();
                console.Write(new Text("(conversation cleared)\n", Dim));
                continue;
            }
            if (line.StartsWith("/system", StringComparison.Ordinal))
            {
                string text = line["/system".Length..].Trim();
                _system = text.Length == 0 ? null : text;
                console.Write(new Text(_system is null ? "(system prompt removed)\n" : "(system prompt set)\n", Dim));
                continue;
            }
            if (line.Trim().Length == 0) continue;
            _history.Add(new ChatMessage(ChatRole.User, line));
            if (!await ReplyAsync(cancellation)) return;
        }
    }

    /// <summary>Generates until the model answers without calling tools; false when input ended while a tool result was asked for.</summary>
    private async Task<bool> ReplyAsync(CancellationToken cancellation)
    {
        while (true)
        {
            ChatResponse response;
            try
            {
                response = await StreamTurnAsync(cancellation);
            }
            catch (Exception e) when (e is StepSharp.Inference.ContextLengthExceededException or StepSharp.Chat.Templates.TemplateException)
            {
                // The session survives: the message that could not be sent is dropped, and the user may /reset or rephrase.
                _history.RemoveAt(_history.Count - 1);
                string problem = e is StepSharp.Chat.Templates.TemplateException ? $"the chat template rejected the conversation: {e.Message}" : e.Message;
                console.Write(new Text($"({problem}; the last message was not sent, /reset starts over)\n", new Style(Color.Red)));
                return true;
            }
            _history.AddRange(response.Messages);
            var calls = response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().ToList();
            if (calls.Count == 0) return true;
            var results = new List<AIContent>();
            foreach (var call in calls)
            {
                string arguments = JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), CompactJson);
                console.Write(new Text($"tool call: {call.Name} {arguments}\n", new Style(Color.Yellow)));
                console.Write(new Text($"result of {call.Name}> ", new Style(Color.Yellow)));
                string? result = await input.ReadLineAsync(cancellation);
                if (result is null) return false;
                results.Add(new FunctionResultContent(call.CallId, result));
            }
            _history.Add(new ChatMessage(ChatRole.Tool, results));
        }
    }

    private async Task<ChatResponse> StreamTurnAsync(CancellationToken cancellation)
    {
        var conversation = new List<ChatMessage>(_history.Count + 1);
        if (_system is not null) conversation.Add(new ChatMessage(ChatRole.System, _system));
        conversation.AddRange(_history);
        var updates = new List<ChatResponseUpdate>();
        bool reasoned = false, answered = false;
        await foreach (var update in client.GetStreamingResponseAsync(conversation, options, cancellation))
        {
            updates.Add(update);
            foreach (var content in update.Contents)
            {
                if (content is TextReasoningContent { Text.Length: > 0 } reasoning)
                {
                    // Labelled as well as dimmed, so the two stay apart where the terminal shows no styles (pipes, logs).
                    if (!reasoned) console.Write(new Text("(thinking) ", Dim));
                    reasoned = true;
                    console.Write(new Text(reasoning.Text, Dim));
                }
                else if (content is TextContent { Text.Length: > 0 } text)
                {
                    // The answer starts on its own line below the (dimmed) reasoning.
                    if (reasoned && !answered) console.Write(new Text("\n"));
                    answered = true;
                    console.Write(new Text(text.Text));
                }
            }
        }
        var response = updates.ToChatResponse();
        if (reasoned || answered) console.Write(new Text("\n"));
        if (response.FinishReason == ChatFinishReason.Length) console.Write(new Text("(reply cut at --max-tokens)\n", Dim));
        return response;
    }
}
