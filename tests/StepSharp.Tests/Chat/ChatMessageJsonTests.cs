using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using StepSharp.Chat;

namespace StepSharp.Tests.Chat;

public class ChatMessageJsonTests
{
    [Fact]
    public void ConversationWithToolCallsBecomesOpenAiStyleJsonWithObjectArguments()
    {
        var arguments = new Dictionary<string, object?>
        {
            ["city"] = "Paris",
            ["days"] = 2,
            ["filters"] = JsonDocument.Parse("""{"rain": true}""").RootElement.Clone(),
        };
        List<ChatMessage> messages =
        [
            new(ChatRole.System, "Be brief."),
            new(ChatRole.User, "Weather?"),
            new(ChatRole.Assistant, [new TextReasoningContent("need data"), new FunctionCallContent("call00001", "get_weather", arguments)]),
            new(ChatRole.Tool, [new FunctionResultContent("call00001", "sunny"), new FunctionResultContent("call00002", JsonDocument.Parse("""{"t": 3}""").RootElement)]),
        ];

        var json = ChatMessageJson.ToMessages(messages, instructions: "Extra rules.");

        var expected = JsonNode.Parse("""
            [{"role":"system","content":"Extra rules."},
             {"role":"system","content":"Be brief."},
             {"role":"user","content":"Weather?"},
             {"role":"assistant","content":"","reasoning_content":"need data","thinking":"need data",
              "tool_calls":[{"id":"call00001","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris","days":2,"filters":{"rain":true}}}}]},
             {"role":"tool","tool_call_id":"call00001","name":"get_weather","content":"sunny"},
             {"role":"tool","tool_call_id":"call00002","content":"{\"t\": 3}"}]
            """);
        Assert.True(JsonNode.DeepEquals(expected, json), json.ToJsonString());
    }

    [Fact]
    public void FunctionDeclarationsBecomeToolsWithTheirSchema()
    {
        var declaration = AIFunctionFactory.CreateDeclaration("search", "Search the web",
            JsonDocument.Parse("""{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}""").RootElement);
        var tools = ChatMessageJson.ToTools([declaration]);
        var expected = JsonNode.Parse("""
            [{"type":"function","function":{"name":"search","description":"Search the web",
              "parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}}]
            """);
        Assert.True(JsonNode.DeepEquals(expected, tools), tools?.ToJsonString());
        Assert.Null(ChatMessageJson.ToTools([]));
    }
}
