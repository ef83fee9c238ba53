#pragma warning disable xUnit1051 // requests carry their own timeouts
using System.Text.Json.Nodes;

namespace StepSharp.Tests.Server;

/// <summary>POST /v1/messages (Anthropic Messages API shape) against the scripted model.</summary>
[Collection(nameof(ServerCollection))]
public class AnthropicMessagesTests(ServerFixture servers)
{
    private const string Tools = """[{"name":"get_weather","description":"weather","input_schema":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}}}}]""";

    private async Task<(int Status, JsonNode Body)> Post(string json)
    {
        using var http = new HttpClient { BaseAddress = servers.Scripted.Http.BaseAddress };
        http.DefaultRequestHeaders.Add("x-api-key", ServerFixture.ApiKey);
        using var response = await http.PostAsync("v1/messages", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, json.Contains("\"stream\":true") ? JsonValue.Create(text) : JsonNode.Parse(text)!);
    }

    [Fact]
    public async Task AMessageHasThinkingAndTextBlocks()
    {
        var (status, body) = await Post("""{"model":"m","max_tokens":100,"system":"Be kind.","messages":[{"role":"user","content":"Hello"}]}""");
        Assert.Equal(200, status);
        Assert.Equal("message", body["type"]!.GetValue<string>());
        var content = body["content"]!.AsArray();
        Assert.Equal("thinking", content[0]!["type"]!.GetValue<string>());
        Assert.Equal("A greeting is due.", content[0]!["thinking"]!.GetValue<string>());
        Assert.Equal(ChatScript.Greeting, content[1]!["text"]!.GetValue<string>());
        Assert.Equal("end_turn", body["stop_reason"]!.GetValue<string>());
        Assert.True(body["usage"]!["input_tokens"]!.GetValue<int>() > 0);
    }

    [Fact]
    public async Task AToolUseRoundTrip()
    {
        var (_, call) = await Post($$"""{"max_tokens":200,"tools":{{Tools}},"messages":[{"role":"user","content":"weather in Paris?"}]}""");
        Assert.Equal("tool_use", call["stop_reason"]!.GetValue<string>());
        var use = call["content"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "tool_use")!;
        Assert.Equal("get_weather", use["name"]!.GetValue<string>());
        Assert.Equal("""{"city":"Paris","days":2}""", use["input"]!.ToJsonString());

        string id = use["id"]!.GetValue<string>();
        var (status, answer) = await Post($$"""
            {"max_tokens":200,"tools":{{Tools}},"messages":[
              {"role":"user","content":"weather in Paris?"},
              {"role":"assistant","content":{{call["content"]!.ToJsonString()}}},
              {"role":"user","content":[{"type":"tool_result","tool_use_id":"{{id}}","content":"cloudy"}]}]}
            """);
        Assert.Equal(200, status);
        Assert.Equal("It is cloudy in Paris.", answer["content"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "text")!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task StreamingSendsNamedEventsAndStopSequences()
    {
        var (status, raw) = await Post("""{"max_tokens":100,"stream":true,"stop_sequences":["STOP"],"messages":[{"role":"user","content":"Hello"}]}""");
        Assert.Equal(200, status);
        var events = raw.GetValue<string>().Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('\n')).Select(l => (Name: l[0]["event: ".Length..], Data: JsonNode.Parse(l[1]["data: ".Length..])!)).ToList();
        Assert.Equal("message_start", events[0].Name);
        Assert.Equal("message_stop", events[^1].Name);
        var delta = events.Single(e => e.Name == "message_delta").Data["delta"]!;
        Assert.Equal("stop_sequence", delta["stop_reason"]!.GetValue<string>());
        Assert.Equal("STOP", delta["stop_sequence"]!.GetValue<string>());
        string text = string.Concat(events.Where(e => e.Name == "content_block_delta" && e.Data["delta"]!["type"]!.GetValue<string>() == "text_delta")
            .Select(e => e.Data["delta"]!["text"]!.GetValue<string>()));
        Assert.Equal("Hello there, friend! ", text);
        Assert.Equal(events.Count(e => e.Name == "content_block_start"), events.Count(e => e.Name == "content_block_stop"));
    }

    [Fact]
    public async Task ErrorsUseTheAnthropicShape()
    {
        var (status, body) = await Post("""{"messages":[{"role":"user","content":"Hello"}]}""");
        Assert.Equal(400, status);
        Assert.Equal("error", body["type"]!.GetValue<string>());
        Assert.Contains("'max_tokens' is required", body["error"]!["message"]!.GetValue<string>());
        var (roleStatus, roleBody) = await Post("""{"max_tokens":5,"messages":[{"role":"system","content":"x"}]}""");
        Assert.Equal(400, roleStatus);
        Assert.Contains("expected user or assistant", roleBody["error"]!["message"]!.GetValue<string>());
    }
}
