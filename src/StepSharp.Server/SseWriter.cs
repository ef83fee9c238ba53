using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace StepSharp.Server;

/// <summary>Server-sent events as the OpenAI streaming API sends them: <c>data: {json}</c> lines, ending with <c>data: [DONE]</c>.</summary>
internal sealed class SseWriter
{
    private readonly HttpResponse _response;

    public SseWriter(HttpContext context)
    {
        _response = context.Response;
        _response.StatusCode = 200;
        _response.ContentType = "text/event-stream; charset=utf-8";
        _response.Headers.CacheControl = "no-cache";
        _response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    public Task WriteAsync(JsonNode data, CancellationToken cancellationToken) => WriteRawAsync(null, data.ToJsonString(Json.Options), cancellationToken);

    /// <summary>A named event (<c>event: NAME</c> line first), as the Anthropic Messages API streams.</summary>
    public Task WriteAsync(string eventName, JsonNode data, CancellationToken cancellationToken) => WriteRawAsync(eventName, data.ToJsonString(Json.Options), cancellationToken);

    public Task WriteDoneAsync(CancellationToken cancellationToken) => WriteRawAsync(null, "[DONE]", cancellationToken);

    private async Task WriteRawAsync(string? eventName, string data, CancellationToken cancellationToken)
    {
        string text = (eventName is null ? "" : "event: " + eventName + "\n") + "data: " + data + "\n\n";
        await _response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        await _response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
