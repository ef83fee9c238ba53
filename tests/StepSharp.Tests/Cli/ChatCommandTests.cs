using System.CommandLine;
using StepSharp.Cli.Commands;
using StepSharp.Inference;
using StepSharp.Tests.Chat;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Cli;

/// <summary><c>stepsharp chat</c> driven through stdin, with scripted model output where the text matters.</summary>
[Collection(nameof(ConsoleCollection))]
public class ChatCommandTests
{
    private const string ToolsJson = """
        [{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]}}}]
        """;

    /// <summary>The demo model's tokenizer, to tokenize the script (the chat command loads its own copy of the same model).</summary>
    private static ScriptedModelOutput Script(params string[] outputs)
    {
        using var model = DemoModel.Load(1);
        return new ScriptedModelOutput(model.Tokenizer, outputs);
    }

    private static RootCommand RootWith(IScriptedOutput script) => new() { ChatCommand.Create(script) };

    [Fact]
    public async Task ToolCallsAreShownAndTheTypedResultGoesBackToTheModel()
    {
        var script = Script(
            "I need the weather.\n</think>\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>",
            "Got it.\n</think>\nIt will be sunny in Paris.");
        string tools = Path.GetTempFileName();
        try
        {
            File.WriteAllText(tools, ToolsJson);
            var (code, stdout, stderr) = await CliRunner.RunWithInputAsync("Weather in Paris?\nsunny and 20 C\n/exit\n", RootWith(script),
                "chat", "--json-tools", tools, "--system", "Be brief.", "--threads", "1");
            Assert.True(code == 0, stderr);
            Assert.Contains("I need the weather.", stdout);
            Assert.Contains("tool call: get_weather {\"city\":\"Paris\",\"days\":2}", stdout); // days typed by the schema
            Assert.Contains("result of get_weather> ", stdout);
            Assert.Contains("It will be sunny in Paris.", stdout);
            // Reasoning and answer are on separate lines.
            Assert.Contains("Got it.\nIt will be sunny in Paris.", stdout);

            Assert.Equal(2, script.Prompts.Count);
            string first = script.DecodedPrompt(0);
            Assert.StartsWith("<|bos|><|im_start|>system\nBe brief.\n\n# Tools\n", first);
            Assert.Contains("\"name\": \"get_weather\"", first);
            Assert.EndsWith("</tool_call><|im_end|>\n<|im_start|>tool_response\n<tool_response>sunny and 20 C</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n",
                script.DecodedPrompt(1));
        }
        finally
        {
            File.Delete(tools);
        }
    }

    [Fact]
    public async Task ResetAndSystemChangeWhatTheNextPromptContains()
    {
        var script = Script("a\n</think>\nfirst answer", "b\n</think>\nsecond answer", "c\n</think>\nthird answer");
        var (code, stdout, stderr) = await CliRunner.RunWithInputAsync(
            "first question\nsecond question\n/reset\n/system You are terse.\nthird question\n", RootWith(script), "chat", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("first answer", stdout);
        Assert.Contains("third answer", stdout);
        // Turn 2 sees turn 1 without its reasoning: like the real template, the demo one keeps reasoning only after the last user query (spec 6.1).
        Assert.EndsWith("<|im_start|>user\nfirst question<|im_end|>\n<|im_start|>assistant\nfirst answer<|im_end|>\n<|im_start|>user\nsecond question<|im_end|>\n<|im_start|>assistant\n<think>\n",
            script.DecodedPrompt(1));
        Assert.Equal("<|bos|><|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nthird question<|im_end|>\n<|im_start|>assistant\n<think>\n",
            script.DecodedPrompt(2));
    }

    [Fact]
    public async Task ChatTemplateOptionReplacesTheModelsTemplate()
    {
        string modelPath = TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf");
        string template = TestData.Path("chat-templates", "StepFun3.5-Flash.jinja");
        ScriptedModelOutput script;
        using (var tiny = LoadedModel.Open(modelPath, 1)) script = new ScriptedModelOutput(tiny.Tokenizer, "hmm\n</think>\nBonjour!");
        var (code, stdout, stderr) = await CliRunner.RunWithInputAsync("Say hello\n", RootWith(script),
            "chat", "--model", modelPath, "--chat-template", template, "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("Bonjour!", stdout);
        // The real template writes the model's BOS text itself; the client must not add a second BOS token.
        Assert.Equal("<|bos|><|im_start|>user\nSay hello<|im_end|>\n<|im_start|>assistant\n<think>\n", script.DecodedPrompt(0));
        Assert.Equal(1, script.Prompts[0].Count(id => id == 506));
    }

    [Fact]
    public async Task ATemplateErrorIsReportedAndTheSessionGoesOn()
    {
        string template = Path.GetTempFileName();
        try
        {
            File.WriteAllText(template, "{% if messages[-1].content == 'bad' %}{{ raise_exception('no bad words') }}{% endif %}{{ messages[-1].content }}");
            var script = Script("fine");
            var (code, stdout, stderr) = await CliRunner.RunWithInputAsync("bad\ngood\n/exit\n", RootWith(script), "chat", "--chat-template", template, "--threads", "1");
            Assert.True(code == 0, stderr);
            Assert.Contains("no bad words", stdout);
            Assert.Contains("fine", stdout);
            Assert.Equal("<|bos|>good", Assert.Single(script.Prompts.Select((_, i) => script.DecodedPrompt(i))));
        }
        finally
        {
            File.Delete(template);
        }
    }

    [Fact]
    public async Task RealDemoModelChatsUntilInputEnds()
    {
        var (code, stdout, stderr) = await CliRunner.RunWithInputAsync("Hello\nAnd again\n", null,
            "chat", "--max-tokens", "6", "--temperature", "0", "--threads", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("RANDOM weights", stderr);
        Assert.Equal(3, stdout.Split("you> ").Length - 1); // two turns, then the prompt at which input ended
    }
}
