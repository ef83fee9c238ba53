using System.Text;
using System.Text.Json.Nodes;
using StepSharp.Tests.Chat.Templates;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Cli;

/// <summary><c>stepsharp template</c> renders every template × scenario of testdata/chat-templates byte for byte.</summary>
[Collection(nameof(ConsoleCollection))]
public class TemplateCommandTests
{
    public static TheoryData<string, string> Cases() => ChatTemplateConformanceTests.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task RendersTheExpectedFile(string templateName, string scenarioId)
    {
        string dir = TestData.Path("chat-templates");
        var doc = JsonNode.Parse(File.ReadAllText(TestData.Path("chat-templates", "scenarios.json")))!;
        var info = doc["templates"]![templateName]!;
        var scenario = doc["scenarios"]!.AsArray().First(s => (string)s!["id"]! == scenarioId)!;
        string work = Directory.CreateTempSubdirectory("stepsharp-template-").FullName;
        try
        {
            string messages = Path.Combine(work, "messages.json");
            File.WriteAllText(messages, scenario["messages"]!.ToJsonString());
            List<string> args = ["template", "--template", Path.Combine(dir, (string)info["file"]!), "--messages", messages, "--now", "2026-11-23T00:00:00"];
            if (scenario["tools"] is JsonArray tools)
            {
                string toolsFile = Path.Combine(work, "tools.json");
                File.WriteAllText(toolsFile, tools.ToJsonString());
                args.AddRange(["--tools", toolsFile]);
            }
            if (!(bool)scenario["add_generation_prompt"]!) args.Add("--no-generation-prompt");
            if ((string?)info["bos_token"] is string bos) args.AddRange(["--bos", bos]);
            if ((string?)info["eos_token"] is string eos) args.AddRange(["--eos", eos]);
            foreach (var (name, value) in scenario["kwargs"]!.AsObject()) args.AddRange(["--var", $"{name}={value!.ToJsonString()}"]);

            var (code, stdout, stderr) = await CliRunner.RunAsync([.. args]);

            string okFile = Path.Combine(dir, "expected", $"{templateName}.{scenarioId}.txt");
            if (File.Exists(okFile))
            {
                Assert.True(code == 0, stderr);
                Assert.Equal(File.ReadAllText(okFile, new UTF8Encoding(false)), stdout);
                return;
            }
            string recorded = File.ReadAllText(Path.Combine(dir, "expected", $"{templateName}.{scenarioId}.error.txt"), new UTF8Encoding(false));
            Assert.NotEqual(0, code);
            Assert.Equal("", stdout);
            Assert.StartsWith("stepsharp: template error: ", stderr);
            if (recorded.StartsWith("TemplateError: ", StringComparison.Ordinal))
                Assert.Contains(recorded["TemplateError: ".Length..], stderr);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [Fact]
    public async Task ModelTemplateUsesTheModelsBosAndVariablesReachTheTemplate()
    {
        string work = Directory.CreateTempSubdirectory("stepsharp-template-").FullName;
        try
        {
            string messages = Path.Combine(work, "m.json"), template = Path.Combine(work, "t.jinja");
            File.WriteAllText(messages, """[{"role":"user","content":"Hi"}]""");
            var demo = await CliRunner.RunAsync("template", "--messages", messages);
            Assert.True(demo.ExitCode == 0, demo.Stderr);
            Assert.Equal("<|bos|><|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n", demo.Stdout);

            File.WriteAllText(template, "{{ bos_token is defined }}|{{ mode }}|{{ messages[0].content }}|{{ add_generation_prompt }}");
            var custom = await CliRunner.RunAsync("template", "--template", template, "--messages", messages, "--var", "mode=\"fast\"", "--no-generation-prompt");
            Assert.True(custom.ExitCode == 0, custom.Stderr);
            Assert.Equal("False|fast|Hi|False", custom.Stdout);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    [Fact]
    public async Task SyntaxErrorsAndBadMessagesFailWithOneLine()
    {
        string work = Directory.CreateTempSubdirectory("stepsharp-template-").FullName;
        try
        {
            string messages = Path.Combine(work, "m.json"), template = Path.Combine(work, "bad.jinja");
            File.WriteAllText(messages, """[{"role":"user","content":"Hi"}]""");
            File.WriteAllText(template, "{% for m in messages %}{{ m.content }}");
            var bad = await CliRunner.RunAsync("template", "--template", template, "--messages", messages);
            Assert.Equal(1, bad.ExitCode);
            Assert.Contains("bad.jinja", bad.Stderr);

            File.WriteAllText(messages, """{"role":"user"}""");
            var notArray = await CliRunner.RunAsync("template", "--template", template, "--messages", messages);
            Assert.Equal(1, notArray.ExitCode);
            Assert.Contains("must hold a JSON array", notArray.Stderr);
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }
}
