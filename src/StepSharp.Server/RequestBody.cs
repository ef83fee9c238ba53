using Microsoft.AspNetCore.Http;

namespace StepSharp.Server;

/// <summary>Reads a request body as text; Kestrel's body size limit turns an oversized body into HTTP 413.</summary>
internal static class RequestBody
{
    public static async Task<string> ReadAsync(HttpContext context)
    {
        try
        {
            using var reader = new StreamReader(context.Request.Body, System.Text.Encoding.UTF8);
            return await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new ApiException(413, $"the request body is larger than the limit of {context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize} bytes", code: "request_too_large");
        }
    }
}
