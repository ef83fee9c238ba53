using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace StepSharp.Server;

/// <summary>The routes, and the middleware in front of them: errors as OpenAI error objects, metrics, the API key, the loading gate.</summary>
internal static class Routes
{
    public static void Map(WebApplication app, StepSharpServer server)
    {
        app.Use((context, next) => GuardAsync(context, next, server));
        var options = server.Options;
        var metrics = server.Metrics;
        var log = server.Logger;

        app.MapGet("/health", () => server.Model is not null
            ? Json.Result(new JsonObject { ["status"] = "ok" })
            : Json.Result(ApiException.ErrorJson(server.LoadError is { } e ? $"the model failed to load: {e.Message}" : "the model is loading",
                "server_unavailable_error", null, "loading"), 503));
        app.MapGet("/metrics", () => Results.Text(metrics.Render(server.Model?.Engine.Metrics, server.Model is not null), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/v1/models", () => Json.Result(ModelsBody(Ready(server))));
        app.MapPost("/v1/chat/completions", context => Write(context, ChatCompletionsEndpoint.HandleAsync(context, Ready(server), options, metrics, log)));
        app.MapPost("/v1/completions", context => Write(context, CompletionsEndpoint.HandleAsync(context, Ready(server), options, metrics, log)));
        app.MapPost("/v1/messages", context => Write(context, AnthropicMessagesEndpoint.HandleAsync(context, Ready(server), metrics, log)));
        app.MapPost("/tokenize", context => Write(context, UtilityEndpoints.TokenizeAsync(context, Ready(server))));
        app.MapPost("/detokenize", context => Write(context, UtilityEndpoints.DetokenizeAsync(context, Ready(server))));
        app.MapPost("/apply-template", context => Write(context, UtilityEndpoints.ApplyTemplateAsync(context, Ready(server))));
        app.MapFallback(context => throw new ApiException(404, $"no route {context.Request.Method} {context.Request.Path}", code: "unknown_route"));
    }

    private static async Task Write(HttpContext context, Task<IResult> handler) => await (await handler.ConfigureAwait(false)).ExecuteAsync(context).ConfigureAwait(false);

    private static ServedModel Ready(StepSharpServer server) => server.Model
        ?? throw new ApiException(503, server.LoadError is { } e ? $"the model failed to load: {e.Message}" : "the model is loading; retry when /health answers 200", code: "loading");

    private static JsonObject ModelsBody(ServedModel model) => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray
        {
            new JsonObject
            {
                ["id"] = model.Id,
                ["object"] = "model",
                ["created"] = model.Created,
                ["owned_by"] = "stepsharp",
                ["meta"] = new JsonObject
                {
                    ["description"] = model.Engine.Model.Description,
                    ["architecture"] = model.Engine.Model.Model.Architecture,
                    ["context_length"] = model.ContextLength,
                    ["vocab_size"] = model.VocabSize,
                    ["parallel"] = model.Engine.Options.MaxParallel,
                },
            },
        },
    };

    /// <summary>Every request: API key, then the route; refusals become OpenAI error objects; status counted per route.</summary>
    private static async Task GuardAsync(HttpContext context, RequestDelegate next, StepSharpServer server)
    {
        try
        {
            if (server.Options.ApiKey is { } key && context.Request.Path != "/health" && !Authorized(context, key))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                throw new ApiException(401, "a valid API key is required: send 'Authorization: Bearer KEY'", code: "invalid_api_key");
            }
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            var api = e switch
            {
                ApiException a => a,
                BadHttpRequestException b => new ApiException(b.StatusCode, b.Message, code: b.StatusCode == 413 ? "request_too_large" : "bad_request"),
                _ => CompletionResponder.Translate(e),
            };
            if (api.StatusCode >= 500 && api.StatusCode != 503 && e is not ApiException)
                server.Logger.LogError(e, "request {Method} {Path} failed", context.Request.Method, context.Request.Path);
            if (api.StatusCode == 503) context.Response.Headers.RetryAfter = "1";
            context.Response.StatusCode = api.StatusCode;
            context.Response.ContentType = "application/json; charset=utf-8";
            // Anthropic clients expect their own error shape on the Messages route.
            var error = context.Request.Path.StartsWithSegments("/v1/messages")
                ? new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = api.Type, ["message"] = api.Message } }
                : api.ToJson();
            await context.Response.WriteAsync(error.ToJsonString(Json.Options)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // the client went away; nothing to answer
        }
        finally
        {
            string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "other";
            server.Metrics.RecordRequest(route, context.Response.StatusCode);
        }
    }

    private static bool Authorized(HttpContext context, string key)
    {
        string header = context.Request.Headers.Authorization.ToString();
        const string prefix = "Bearer ";
        // OpenAI clients send a bearer token, Anthropic clients an x-api-key header.
        string given = header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? header[prefix.Length..].Trim() : context.Request.Headers["x-api-key"].ToString();
        // Constant time, so the key cannot be guessed byte by byte from response times.
        return given.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(key));
    }
}
