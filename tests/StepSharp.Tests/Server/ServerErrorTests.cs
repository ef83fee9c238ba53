#pragma warning disable xUnit1051 // requests carry their own timeouts
using System.Net;
using System.Text.Json.Nodes;
using StepSharp.Inference;
using StepSharp.Server;

namespace StepSharp.Tests.Server;

/// <summary>Malformed requests get the right 4xx and an OpenAI error object naming the problem; the server stays healthy.</summary>
[Collection(nameof(ServerCollection))]
public class ServerErrorTests(ServerFixture servers)
{
    private const string Chat = "v1/chat/completions";
    private const string User = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

    /// <summary>A valid chat body plus <paramref name="fields"/>.</summary>
    private static string With(string fields) => "{" + User + (fields.Length > 0 ? "," + fields : "") + "}";

    public static TheoryData<string, string, int, string, string?> BadRequests => new()
    {
        { Chat, "not json", 400, "not valid JSON", null },
        { Chat, "", 400, "body is empty", null },
        { Chat, "[]", 400, "must be a JSON object", null },
        { Chat, "{}", 400, "'messages' is required", "messages" },
        { Chat, """{"messages":"hi"}""", 400, "'messages' must be an array", "messages" },
        { Chat, """{"messages":[]}""", 400, "at least one message", "messages" },
        { Chat, """{"messages":[1]}""", 400, "'messages[0]' must be a JSON object", "messages[0]" },
        { Chat, """{"messages":[{"content":"x"}]}""", 400, "'messages[0].role' is required", "messages[0].role" },
        { Chat, """{"messages":[{"role":"wizard","content":"x"}]}""", 400, "'messages[0].role' is 'wizard'", "messages[0].role" },
        { Chat, """{"messages":[{"role":"user"}]}""", 400, "'messages[0].content' is required", "messages[0].content" },
        { Chat, """{"messages":[{"role":"user","content":5}]}""", 400, "'messages[0].content' must be a string", "messages[0].content" },
        { Chat, """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", 400, "only text content parts", "messages[0].content[0].type" },
        { Chat, """{"messages":[{"role":"user","content":[{"type":"text"}]}]}""", 400, "'messages[0].content[0].text' is required", "messages[0].content[0].text" },
        { Chat, """{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]}""", 400, "is not valid JSON", "messages[0].tool_calls[0].function.arguments" },
        { Chat, """{"messages":[{"role":"assistant","tool_calls":[{"id":"c"}]}]}""", 400, "'messages[0].tool_calls[0].function' is required", "messages[0].tool_calls[0].function" },
        { Chat, With("\"max_tokens\":\"ten\""), 400, "'max_tokens' must be an integer", "max_tokens" },
        { Chat, With("\"max_tokens\":-1"), 400, "'max_tokens' must be between 0 and", "max_tokens" },
        { Chat, With("\"temperature\":3"), 400, "'temperature' must be between 0 and 2", "temperature" },
        { Chat, With("\"top_p\":0"), 400, "'top_p' must be greater than 0", "top_p" },
        { Chat, With("\"n\":0"), 400, "'n' must be between 1 and 8", "n" },
        { Chat, With("\"n\":100"), 400, "'n' must be between 1 and 8", "n" },
        { Chat, With("\"stop\":[1]"), 400, "'stop[0]' must be a string", "stop" },
        { Chat, With("\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), 400, "at most 4", "stop" },
        { Chat, With("\"stop\":\"\""), 400, "stop strings must not be empty", "stop" },
        { Chat, With("\"logit_bias\":{\"abc\":1}"), 400, "keys must be token ids", "logit_bias" },
        { Chat, With("\"logit_bias\":{\"999999\":1}"), 400, "outside the vocabulary of 512", "logit_bias" },
        { Chat, With("\"logit_bias\":{\"5\":500}"), 400, "'logit_bias.5' must be between -100 and 100", "logit_bias.5" },
        { Chat, With("\"top_logprobs\":5"), 400, "needs 'logprobs'", "top_logprobs" },
        { Chat, With("\"logprobs\":true,\"top_logprobs\":50"), 400, "'top_logprobs' must be between 0 and 20", "top_logprobs" },
        { Chat, With("\"tools\":{}"), 400, "'tools' must be an array", "tools" },
        { Chat, With("\"tools\":[{\"type\":\"function\"}]"), 400, "'tools[0].function' is required", "tools[0].function" },
        { Chat, With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"bad name!\"}}]"), 400, "names are 1-64", "tools[0].function.name" },
        { Chat, With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":\"x\"}}]"), 400, "'tools[0].function.parameters' must be an object", "tools[0].function.parameters" },
        { Chat, With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"array\"}}}]"), 400, "parameters schema must be an object", "tools[0].function.parameters.type" },
        { Chat, With("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}},{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]"), 400, "already declared", "tools[1].function.name" },
        { Chat, With("\"tools\":[{\"type\":\"retrieval\"}]"), 400, "only function tools", "tools[0].type" },
        { Chat, With("\"tool_choice\":\"always\""), 400, "expected none, auto, required", "tool_choice" },
        { Chat, With("\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}"), 400, "not among the tools", "tool_choice" },
        { Chat, With("\"tool_choice\":\"required\""), 400, "no tools are given", "tool_choice" },
        { Chat, With("\"response_format\":{\"type\":\"xml\"}"), 400, "must be text, json_object or json_schema", "response_format.type" },
        { Chat, With("\"stream_options\":{\"include_usage\":true}"), 400, "only allowed when 'stream' is true", "stream_options" },
        { Chat, With("\"stream\":\"yes\""), 400, "'stream' must be a boolean", "stream" },
        { Chat, With("\"presence_penalty\":3"), 400, "'presence_penalty' must be between -2 and 2", "presence_penalty" },
        { Chat, With("\"seed\":\"x\""), 400, "'seed' must be an integer", "seed" },
        { Chat, $$"""{"messages":[{"role":"user","content":"{{new string('x', 600)}}"}]}""", 400, "the context length is 512", "messages" },
        { "v1/completions", "{}", 400, "'prompt' is required", "prompt" },
        { "v1/completions", """{"prompt":[999999]}""", 400, "must be a token id in 0..511", "prompt" },
        { "v1/completions", """{"prompt":{}}""", 400, "'prompt' must be a string", "prompt" },
        { "v1/completions", """{"prompt":"a","suffix":"b"}""", 400, "'suffix' (insertion) is not supported", "suffix" },
        { "v1/completions", """{"prompt":"a","n":5,"logprobs":9}""", 400, "'logprobs' must be between 0 and 5", "logprobs" },
        { "tokenize", "{}", 400, "'content' is required", "content" },
        { "detokenize", """{"tokens":["a"]}""", 400, "must be a token id", "tokens" },
        { "v1/nothing", "{}", 404, "no route POST /v1/nothing", null },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task AMalformedRequestGetsAnOpenAIErrorObject(string path, string body, int status, string message, string? param)
    {
        using var response = await servers.Model.Http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!.AsObject();
        Assert.Contains(message, error["message"]!.GetValue<string>());
        Assert.Equal(status == 404 ? "not_found_error" : "invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.True(error.ContainsKey("code"));
        // The server is unharmed.
        Assert.Equal(HttpStatusCode.OK, (await servers.Model.Http.GetAsync("health")).StatusCode);
    }

    [Fact]
    public async Task AfterTheBadRequestsTheServerStillAnswers()
    {
        var ok = await servers.Model.PostOkAsync(Chat, JsonNode.Parse(With("\"max_tokens\":2"))!);
        Assert.Equal(2, ok["usage"]!["completion_tokens"]!.GetValue<int>());
        using var tooBig = await servers.Model.Http.PostAsync(Chat, new StringContent($$"""{"messages":[{"role":"user","content":"{{new string('x', 2_000_000)}}"}]}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Contains("larger than the limit", await tooBig.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheApiKeyIsRequiredEverywhereButHealth()
    {
        using var anonymous = new HttpClient { BaseAddress = servers.Scripted.Http.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("health")).StatusCode);
        using var none = await anonymous.PostAsync(Chat, new StringContent(With("")));
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("invalid_api_key", JsonNode.Parse(await none.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", "wrong-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("metrics")).StatusCode);
        anonymous.DefaultRequestHeaders.Authorization = new("Bearer", ServerFixture.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("v1/models")).StatusCode);
    }

    [Fact]
    public async Task HealthIs503WhileLoadingAndAFullQueueAnswers503()
    {
        using var gate = new ManualResetEventSlim(false);
        await using var server = StepSharpServer.Create(new ServerOptions { Port = 0, LogRequests = false }, () =>
        {
            gate.Wait();
            return ServerFixture.Serve(new BatchingOptions { ContextLength = 256, MaxParallel = 1, MaxQueued = 0 }, null, "gated");
        });
        await server.StartAsync();
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = server.BaseAddress };
        using (var loading = await http.GetAsync("health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, loading.StatusCode);
            Assert.Contains("loading", await loading.Content.ReadAsStringAsync());
        }
        using (var early = await http.PostAsync(Chat, new StringContent(With(""))))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
        gate.Set();
        await server.Ready;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health")).StatusCode);

        // One slot, no queue: a second request while the first streams is refused with 503 and a reason.
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent("""{"prompt":"a","max_tokens":200,"stream":true}""") };
        using var running = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var busy = await http.PostAsync("v1/completions", new StringContent("""{"prompt":"b","max_tokens":1}"""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
        Assert.Contains("busy", await busy.Content.ReadAsStringAsync());
        Assert.True(busy.Headers.Contains("Retry-After"));
    }
}
