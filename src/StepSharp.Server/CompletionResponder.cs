using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StepSharp.Inference;

namespace StepSharp.Server;

/// <summary>
/// What chat and text completions share: run the request's choices on the engine, then either stream chunks as
/// server-sent events or answer with one JSON body; count usage, log and record metrics per choice. A client
/// that disconnects cancels its choices (the engine frees their slots before its next step).
/// </summary>
internal abstract class CompletionResponder(ServedModel model, ServerMetrics metrics, ILogger log, string? requestedModel)
{
    protected ServedModel Model { get; } = model;
    public string Id { get; init; } = Json.NewId("cmpl-");
    public long Created { get; } = Json.Now;
    public string ModelName { get; } = requestedModel ?? model.Id;

    protected abstract string ChunkObject { get; }
    /// <summary>Choice elements to stream before any token (chat: the assistant role).</summary>
    protected virtual IEnumerable<JsonObject> OnStart(int choices) => [];
    /// <summary>A token of choice <paramref name="index"/>; returns its streaming <c>choices[]</c> element, or null.</summary>
    protected abstract JsonObject? OnToken(int index, GeneratedToken token);
    /// <summary>Choice <paramref name="index"/> ended; returns its last streaming elements and its finish reason.</summary>
    protected abstract (IEnumerable<JsonObject> Chunks, string FinishReason) OnFinished(int index, GenerationResult result);
    /// <summary>The non-streamed response body.</summary>
    protected abstract JsonObject FinalBody(JsonObject usage);

    public async Task<IResult> RunAsync(HttpContext context, IReadOnlyList<CompletionRequest> requests, int promptTokens, bool stream, bool includeUsage)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var events = ChoiceStreams.Start(Model.Engine, requests, cancel.Token);
        SseWriter? sse = null;
        int generated = 0;
        try
        {
            await foreach (var e in events.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (e.Error is { } error)
                {
                    cancel.Cancel();
                    var api = Translate(error);
                    if (sse is null) throw api;
                    await sse.WriteAsync(api.ToJson(), context.RequestAborted).ConfigureAwait(false); // mid-stream, as OpenAI does
                    return Results.Empty;
                }
                if (stream && sse is null)
                {
                    sse = new SseWriter(context);
                    foreach (var start in OnStart(requests.Count)) await sse.WriteAsync(Chunk([start]), cancel.Token).ConfigureAwait(false);
                }
                IEnumerable<JsonObject> chunks;
                if (e.Event is CompletionToken t)
                {
                    chunks = OnToken(e.Index, t.Token) is { } c ? [c] : [];
                }
                else
                {
                    var result = ((CompletionFinished)e.Event!).Result;
                    generated += result.GeneratedTokens;
                    var (last, reason) = OnFinished(e.Index, result);
                    chunks = last;
                    Record(e.Index, result, reason);
                }
                if (sse is null) continue;
                foreach (var c in chunks) await sse.WriteAsync(Chunk([c]), cancel.Token).ConfigureAwait(false);
            }
            var usage = new JsonObject { ["prompt_tokens"] = promptTokens, ["completion_tokens"] = generated, ["total_tokens"] = promptTokens + generated };
            if (sse is null) return Json.Result(FinalBody(usage));
            if (includeUsage)
            {
                var last = Chunk([]);
                last["usage"] = usage;
                await sse.WriteAsync(last, cancel.Token).ConfigureAwait(false);
            }
            await sse.WriteDoneAsync(cancel.Token).ConfigureAwait(false);
            return Results.Empty;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            log.LogInformation("request {RequestId}: client disconnected; generation cancelled", Id);
            return Results.Empty;
        }
        finally
        {
            cancel.Cancel(); // a client gone mid-stream: stop every choice now
        }
    }

    private JsonObject Chunk(JsonArray choices) => new()
    {
        ["id"] = Id,
        ["object"] = ChunkObject,
        ["created"] = Created,
        ["model"] = ModelName,
        ["choices"] = choices,
    };

    private void Record(int index, GenerationResult r, string reason) => GenerationLog.Record(metrics, log, Id, index, r, reason);

    /// <summary>Engine refusals as HTTP errors.</summary>
    public static ApiException Translate(Exception e) => e switch
    {
        ApiException api => api,
        QueueFullException q => new ApiException(503, q.Message, code: "server_busy"),
        ContextLengthExceededException c => ApiException.BadRequest(c.Message, "messages", "context_length_exceeded"),
        ArgumentException a => ApiException.BadRequest(a.Message),
        ObjectDisposedException => new ApiException(503, "the server is shutting down", code: "shutting_down"),
        _ => new ApiException(500, $"generation failed: {e.Message}", code: "internal_error"),
    };
}
