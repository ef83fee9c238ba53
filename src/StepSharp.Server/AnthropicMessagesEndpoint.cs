using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StepSharp.Chat;
using StepSharp.Chat.Parsing;
using StepSharp.Inference;

namespace StepSharp.Server;

/// <summary>
/// POST /v1/messages: the Anthropic Messages API over the same engine. The request is translated to an OpenAI chat
/// request (<see cref="AnthropicRequestTranslator"/>) and validated by the same reader; the answer is shaped as a
/// message with thinking, text and tool_use blocks, streamed as Anthropic's named events when asked.
/// </summary>
internal static class AnthropicMessagesEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext context, ServedModel model, ServerMetrics metrics, ILogger log)
    {
        var body = JsonFields.ParseBody(await RequestBody.ReadAsync(context).ConfigureAwait(false));
        var request = ChatRequestReader.Read(AnthropicRequestTranslator.ToOpenAI(body), model, maxChoices: 1);
        var formatter = model.Formatter ?? throw ApiException.BadRequest("the model has no chat template", "messages", "no_chat_template");
        string prompt = ChatCompletionsEndpoint.Render(formatter, request.Messages, request.Tools);
        int[] ids = model.EncodePrompt(prompt, templated: true);
        model.CheckFits(ids.Length, "messages");
        var options = request.Generation.ForChoice(0, ids.Length, model.ContextLength);
        var parser = formatter.OutputFormat is { } format ? ModelOutputParsers.Create(format, request.Tools, ChatPromptFormatter.OpensThinking(prompt)) : null;
        var blocks = new AnthropicMessageBlocks();
        string id = Json.NewId("msg_");
        string modelName = request.Model ?? model.Id;
        bool stream = request.Generation.Stream;

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        SseWriter? sse = null;
        GenerationResult? result = null;
        try
        {
            await foreach (var e in model.Engine.StreamAsync(new CompletionRequest { PromptTokens = ids, Options = options }, cancel.Token).ConfigureAwait(false))
            {
                if (stream && sse is null)
                {
                    sse = new SseWriter(context);
                    await sse.WriteAsync("message_start", new JsonObject { ["type"] = "message_start", ["message"] = Message(id, modelName, [], null, null, ids.Length, 0) }, cancel.Token).ConfigureAwait(false);
                }
                List<(string, JsonObject)> events;
                if (e is CompletionToken { Token.Text: { Length: > 0 } text })
                    events = blocks.Apply(parser is null ? new ParserDelta([new ParserEvent(ParserEventKind.Content, text)]) : parser.Push(text));
                else if (e is CompletionFinished f)
                {
                    result = f.Result;
                    events = parser is null ? [] : blocks.Apply(parser.Finish());
                    events.AddRange(blocks.Finish());
                }
                else continue;
                if (sse is not null)
                    foreach (var (name, data) in events) await sse.WriteAsync(name, data, cancel.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            log.LogInformation("request {RequestId}: client disconnected; generation cancelled", id);
            return Results.Empty;
        }
        catch (Exception e) when (sse is null)
        {
            throw CompletionResponder.Translate(e);
        }
        finally
        {
            cancel.Cancel();
        }

        var r = result!;
        string stopReason = r.FinishReason == FinishReason.Length ? "max_tokens" : r.StopString is not null ? "stop_sequence" : blocks.SawToolUse ? "tool_use" : "end_turn";
        GenerationLog.Record(metrics, log, id, 0, r, stopReason);
        if (sse is null) return Json.Result(Message(id, modelName, blocks.Content(), stopReason, r.StopString, ids.Length, r.GeneratedTokens));
        await sse.WriteAsync("message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = stopReason, ["stop_sequence"] = r.StopString },
            ["usage"] = new JsonObject { ["output_tokens"] = r.GeneratedTokens },
        }, context.RequestAborted).ConfigureAwait(false);
        await sse.WriteAsync("message_stop", new JsonObject { ["type"] = "message_stop" }, context.RequestAborted).ConfigureAwait(false);
        return Results.Empty;
    }

    private static JsonObject Message(string id, string model, JsonArray content, string? stopReason, string? stopSequence, int inputTokens, int outputTokens) => new()
    {
        ["id"] = id,
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = model,
        ["content"] = content,
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = stopSequence,
        ["usage"] = new JsonObject { ["input_tokens"] = inputTokens, ["output_tokens"] = outputTokens },
    };
}
