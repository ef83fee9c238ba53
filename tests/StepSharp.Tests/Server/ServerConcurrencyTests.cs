#pragma warning disable xUnit1051 // requests carry their own timeouts
using System.Text.Json.Nodes;

namespace StepSharp.Tests.Server;

/// <summary>Continuous batching seen from HTTP: many clients at once get what each would get alone (to float rounding); disconnects free slots.</summary>
[Collection(nameof(ServerCollection))]
public class ServerConcurrencyTests(ServerFixture servers)
{
    private static JsonObject GreedyChat(string prompt, int maxTokens) => new()
    {
        ["messages"] = new JsonArray { new JsonObject { ["role"] = "user", ["content"] = prompt } },
        ["max_tokens"] = maxTokens,
        ["temperature"] = 0,
    };

    private static string Reasoning(JsonNode response) => response["choices"]![0]!["message"]!["reasoning_content"]!.GetValue<string>();

    [Fact]
    public async Task SixteenClientsGetWhatEachRequestGivesAlone()
    {
        const int clients = 16, perClient = 8, distinct = 16, maxTokens = 6;
        // Different lengths, so prompts are prefilled in different numbers of chunks while others decode.
        string PromptOf(int k) => $"Prompt {k}: " + new string((char)('a' + k % 26), 1 + (k * 7) % 16);
        var alone = new string[distinct];
        for (int k = 0; k < distinct; k++) alone[k] = Reasoning(await servers.Model.PostOkAsync("v1/chat/completions", GreedyChat(PromptOf(k), maxTokens)));
        Assert.True(alone.Distinct().Count() > distinct / 2, "the prompts should lead to different outputs");

        var results = await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var got = new List<(int, string)>();
            for (int r = 0; r < perClient; r++)
            {
                int k = (c + r * 5) % distinct;
                got.Add((k, Reasoning(await servers.Model.PostOkAsync("v1/chat/completions", GreedyChat(PromptOf(k), maxTokens)))));
            }
            return got;
        })));
        // Batch invariance holds to float rounding, not bits: a batched step multiplies through the tiled kernel,
        // a lone decode token through the streaming one, and on this random model a near-tie can flip a greedy
        // token. So: (1) no response is another prompt's answer (a mix-up), (2) nearly all are exactly the solo
        // answer, and (3) every response starts like its solo answer.
        var all = results.SelectMany(r => r).ToList();
        foreach (var (k, text) in all)
        {
            for (int j = 0; j < distinct; j++)
                if (alone[j] != alone[k]) Assert.NotEqual(alone[j], text);
            Assert.Equal(alone[k][..2], text[..Math.Min(2, text.Length)]);
        }
        int exact = all.Count(r => r.Item2 == alone[r.Item1]);
        Assert.True(exact >= 0.9 * all.Count, $"only {exact} of {all.Count} concurrent responses equal their solo answer");
        Assert.Equal(0, await servers.Model.MetricAsync("stepsharp_active_sequences"));
        Assert.Equal(0, await servers.Model.MetricAsync("stepsharp_queue_depth"));
    }

    [Fact]
    public async Task DisconnectingStreamsFreeTheirSlotsWithinASecond()
    {
        var body = new JsonObject { ["prompt"] = "Once upon a time", ["max_tokens"] = 400, ["stream"] = true, ["temperature"] = 0 };
        // No draining of the unread rest on dispose (HttpClient's default, to reuse the connection): the connection closes like a vanished client's.
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = servers.Model.Http.BaseAddress };
        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json") };
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            int events = 0;
            while (events < 3 && await reader.ReadLineAsync() is { } line) if (line.StartsWith("data: ", StringComparison.Ordinal)) events++;
            return (response, reader);
        }));
        Assert.Equal(4, await servers.Model.MetricAsync("stepsharp_active_sequences"));
        foreach (var (response, reader) in responses) { reader.Dispose(); response.Dispose(); } // the clients go away mid-stream
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await servers.Model.MetricAsync("stepsharp_active_sequences") > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), "slots still busy 1 s after the clients disconnected");
            await Task.Delay(20);
        }
        Assert.Equal(0, await servers.Model.MetricAsync("stepsharp_kv_cache_tokens"));
        var after = await servers.Model.PostOkAsync("v1/completions", new JsonObject { ["prompt"] = "Hello", ["max_tokens"] = 3 });
        Assert.Equal(3, after["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task NChoicesAreDistinctAndReproducibleWithASeed()
    {
        var body = new JsonObject { ["prompt"] = "Once", ["max_tokens"] = 8, ["n"] = 2, ["seed"] = 11, ["temperature"] = 1.5 };
        var first = await servers.Model.PostOkAsync("v1/completions", body);
        var again = await servers.Model.PostOkAsync("v1/completions", body);
        var texts = first["choices"]!.AsArray().Select(c => c!["text"]!.GetValue<string>()).ToArray();
        Assert.Equal(2, texts.Length);
        Assert.NotEqual(texts[0], texts[1]);
        Assert.Equal(texts, again["choices"]!.AsArray().Select(c => c!["text"]!.GetValue<string>()));
        Assert.Equal([0, 1], first["choices"]!.AsArray().Select(c => c!["index"]!.GetValue<int>()));
        Assert.Equal(16, first["usage"]!["completion_tokens"]!.GetValue<int>());

        // Chat with n=2 streams both choices, each with its own finish chunk.
        var chat = GreedyChat("hi", 4);
        chat["n"] = 2;
        chat["stream"] = true;
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(chat.ToJsonString(), System.Text.Encoding.UTF8, "application/json") };
        using var response = await servers.Model.Http.SendAsync(request);
        string sse = await response.Content.ReadAsStringAsync();
        var chunks = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", chunks[^1]);
        var finishes = chunks[..^1].Select(c => JsonNode.Parse(c)!["choices"]![0]!).Where(c => c["finish_reason"] is not null).ToList();
        Assert.Equal([0, 1], finishes.Select(f => f["index"]!.GetValue<int>()).Order());
        Assert.All(finishes, f => Assert.Equal("length", f["finish_reason"]!.GetValue<string>()));
    }

    [Fact]
    public async Task CompletionsMatchChatOnTheRenderedPromptAndEchoLogprobs()
    {
        var messages = new JsonArray { new JsonObject { ["role"] = "user", ["content"] = "Compare" } };
        int[] ids = await servers.Model.ChatPromptTokensAsync(messages);
        var chat = await servers.Model.PostOkAsync("v1/chat/completions", new JsonObject { ["messages"] = messages.DeepClone(), ["max_tokens"] = 7, ["temperature"] = 0 });
        var text = await servers.Model.PostOkAsync("v1/completions", new JsonObject
        {
            ["prompt"] = new JsonArray([.. ids.Select(i => JsonValue.Create(i))]), ["max_tokens"] = 7, ["temperature"] = 0, ["logprobs"] = 2,
        });
        var choice = text["choices"]![0]!;
        Assert.Equal(Reasoning(chat), choice["text"]!.GetValue<string>());
        Assert.Equal(ids.Length, chat["usage"]!["prompt_tokens"]!.GetValue<int>());
        var lp = choice["logprobs"]!;
        Assert.Equal(7, lp["tokens"]!.AsArray().Count);
        Assert.Equal(choice["text"]!.GetValue<string>(), string.Concat(lp["tokens"]!.AsArray().Select(t => t!.GetValue<string>())));
        Assert.All(lp["top_logprobs"]!.AsArray(), t => Assert.Equal(2, t!.AsObject().Count));

        var echoed = await servers.Model.PostOkAsync("v1/completions", new JsonObject { ["prompt"] = "Echo me", ["max_tokens"] = 2, ["echo"] = true });
        Assert.StartsWith("Echo me", echoed["choices"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task UtilityRoutesRoundTrip()
    {
        var tokens = (await servers.Model.PostOkAsync("tokenize", new JsonObject { ["content"] = "Hello <|im_end|>", ["with_pieces"] = true }))["tokens"]!.AsArray();
        Assert.Equal("<|im_end|>", tokens[^1]!["piece"]!.GetValue<string>()); // a control token, parsed as one
        var ids = new JsonArray([.. tokens.Select(t => JsonValue.Create(t!["id"]!.GetValue<int>()))]);
        Assert.Equal("Hello <|im_end|>", (await servers.Model.PostOkAsync("detokenize", new JsonObject { ["tokens"] = ids }))["content"]!.GetValue<string>());
        var models = JsonNode.Parse(await servers.Model.Http.GetStringAsync("v1/models"))!;
        Assert.Equal("tiny", models["data"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(ServerFixture.Context, models["data"]![0]!["meta"]!["context_length"]!.GetValue<int>());
        string metrics = await servers.Model.Http.GetStringAsync("metrics");
        Assert.Contains("# TYPE stepsharp_time_to_first_token_seconds histogram", metrics);
        Assert.Contains("stepsharp_kv_cache_bytes_allocated", metrics);
        Assert.True(await servers.Model.MetricAsync("stepsharp_generated_tokens_total") > 0);
    }
}
