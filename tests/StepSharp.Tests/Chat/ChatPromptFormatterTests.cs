using System.Text.Json.Nodes;
using StepSharp.Chat;
using StepSharp.Inference;

namespace StepSharp.Tests.Chat;

public class ChatPromptFormatterTests
{
    [Fact]
    public void DemoModelTemplateWritesTheStep35PromptFormat()
    {
        using var model = DemoModel.Load(1);
        var formatter = ChatPromptFormatter.ForModel(model);
        Assert.Equal("step35", formatter.OutputFormat);
        var messages = JsonNode.Parse("""
            [{"role":"system","content":"Be brief."},
             {"role":"user","content":"Weather in Paris?"},
             {"role":"assistant","content":"","reasoning_content":"need a tool","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris","days":2}}}]},
             {"role":"tool","tool_call_id":"call_1","content":"sunny"},
             {"role":"tool","tool_call_id":"call_2","content":"warm"}]
            """)!.AsArray();
        var tools = JsonNode.Parse("""[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]""")!.AsArray();
        string prompt = formatter.Render(messages, tools);
        string expected =
            "<|bos|><|im_start|>system\nBe brief.\n\n# Tools\n" +
            "You may call these functions. Each is described by one JSON line:\n<tools>\n" +
            "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": {\"type\": \"object\"}}}\n</tools>\n" +
            "Call one as <tool_call>\n<function=NAME>\n<parameter=ARGUMENT>\nVALUE\n</parameter>\n</function>\n</tool_call><|im_end|>\n" +
            "<|im_start|>user\nWeather in Paris?<|im_end|>\n" +
            "<|im_start|>assistant\n<think>\nneed a tool\n</think>\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call><|im_end|>\n" +
            "<|im_start|>tool_response\n<tool_response>sunny</tool_response><tool_response>warm</tool_response><|im_end|>\n" +
            "<|im_start|>assistant\n<think>\n";
        Assert.Equal(expected, prompt);
        Assert.True(ChatPromptFormatter.OpensThinking(prompt));
        // The special-token strings in the prompt become single control tokens.
        int[] ids = model.Tokenizer.Encode(prompt);
        Assert.Equal(256, ids[0]);
        Assert.Contains(258, ids); // <|im_start|>
    }
}
