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

    public Task WriteAsync(JsonNode data, CancellationToken cancellationToken) => WriteRawAsync(data.ToJsonString(Json.Options), cancellationToken);

    public Task WriteDoneAsync(CancellationToken cancellationToken) => WriteRawAsync("[DONE]", cancellationToken);

    private async Task WriteRawAsync(string data, CancellationToken cancellationToken)
    {
        await _response.Body.WriteAsync(Encoding.UTF8.GetBytes("data: " + data + "\n\n"), cancellationToken).ConfigureAwait(false);
        await _response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
