#pragma warning disable xUnit1051 // requests carry their own timeouts
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI.Chat;

namespace StepSharp.Tests.Server;

/// <summary>How requests reach the chat template (spec §6.1 prompt format) and how tool options shape the answer.</summary>
[Collection(nameof(ServerCollection))]
public class ServerTemplateTests(ServerFixture servers)
{
    private async Task<string> Render(string body) => (await servers.Model.PostOkAsync("apply-template", JsonNode.Parse(body)!))["prompt"]!.GetValue<string>();

    [Fact]
    public async Task HistoryKeepsReasoningAndDecodesToolCallArguments()
    {
        string prompt = await Render("""
            {"messages":[
              {"role":"developer","content":[{"type":"text","text":"Be "},{"type":"text","text":"brief."}]},
              {"role":"user","content":"Weather?"},
              {"role":"assistant","content":null,"reasoning_content":"I should ask the tool.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"days\":2}"}}]},
              {"role":"tool","tool_call_id":"call_1","content":"sunny"}]}
            """);
        // developer → system, text parts joined
        Assert.StartsWith("<|bos|><|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWeather?<|im_end|>\n", prompt);
        // reasoning re-inserted in its think block; the JSON-string arguments rendered as one parameter block each (§6.1)
        Assert.Contains("<|im_start|>assistant\n<think>\nI should ask the tool.\n</think>\n<tool_call>\n<function=get_weather>\n" +
            "<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call><|im_end|>\n", prompt);
        Assert.EndsWith("<|im_start|>tool_response\n<tool_response>sunny</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n", prompt);
    }

    [Fact]
    public async Task ToolChoiceNoneHidesTheToolsAndANamedChoiceKeepsOnlyThatOne()
    {
        const string tools = """[{"type":"function","function":{"name":"alpha","parameters":{"type":"object"}}},{"type":"function","function":{"name":"beta"}}]""";
        string all = await Render($$"""{"messages":[{"role":"user","content":"x"}],"tools":{{tools}}}""");
        Assert.Contains("\"alpha\"", all);
        Assert.Contains("\"beta\"", all);
        string none = await Render($$"""{"messages":[{"role":"user","content":"x"}],"tools":{{tools}},"tool_choice":"none"}""");
        Assert.DoesNotContain("<tools>", none);
        string named = await Render("""{"messages":[{"role":"user","content":"x"}],"tools":""" + tools + ""","tool_choice":{"type":"function","function":{"name":"beta"}}}""");
        Assert.Contains("\"beta\"", named);
        Assert.DoesNotContain("\"alpha\"", named);
    }

    [Fact]
    public async Task ParallelToolCallsFalseKeepsTheFirstCall()
    {
        var chat = servers.Scripted.OpenAI.GetChatClient("scripted");
        var tool = ChatTool.CreateFunctionTool("get_weather", "weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}"""));
        var both = await chat.CompleteChatAsync([new UserChatMessage("weather in both cities")], new ChatCompletionOptions { Tools = { tool } });
        Assert.Equal(["Paris", "Oslo"], both.Value.ToolCalls.Select(City));
        Assert.Equal(2, both.Value.ToolCalls.Select(c => c.Id).Distinct().Count());
        var one = await chat.CompleteChatAsync([new UserChatMessage("weather in both cities")], new ChatCompletionOptions { Tools = { tool }, AllowParallelToolCalls = false });
        Assert.Equal(["Paris"], one.Value.ToolCalls.Select(City));
        Assert.Equal(ChatFinishReason.ToolCalls, one.Value.FinishReason);
    }

    [Fact]
    public async Task JsonObjectResponseFormatIsEnforcedOnTheAnswer()
    {
        // A logit bias makes the random model close its think block at once; the answer after it must then be JSON.
        var ids = (await servers.Model.PostOkAsync("tokenize", new JsonObject { ["content"] = "</think>", ["add_special"] = false }))["tokens"]!.AsArray();
        Assert.Single(ids);
        string endThink = ids[0]!.ToString();
        var body = JsonNode.Parse("""
            {"messages":[{"role":"user","content":"Hello"}],"max_tokens":120,"temperature":0,"response_format":{"type":"json_object"}}
            """)!;
        body["logit_bias"] = new JsonObject { [endThink] = 100 };
        var reply = await servers.Model.PostOkAsync("v1/chat/completions", body);
        var choice = reply["choices"]![0]!;
        string content = choice["message"]!["content"]!.GetValue<string>();
        Assert.StartsWith("{", content.TrimStart());
        Assert.True(new StepSharp.Inference.Constraints.JsonObjectConstraint().Allows(System.Text.Encoding.UTF8.GetBytes(content), false), content);
        if (choice["finish_reason"]!.GetValue<string>() == "stop")
            Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(content).RootElement.ValueKind);

        // Without the response format the same request does not answer in JSON.
        body.AsObject().Remove("response_format");
        var free = await servers.Model.PostOkAsync("v1/chat/completions", body);
        Assert.False((free["choices"]![0]!["message"]!["content"]?.GetValue<string>() ?? "").TrimStart().StartsWith('{'));
    }

    private static string City(ChatToolCall call)
    {
        using var args = JsonDocument.Parse(call.FunctionArguments);
        return args.RootElement.GetProperty("city").GetString()!;
    }
}
