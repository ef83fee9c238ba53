using System.Text.Json.Nodes;
using StepSharp.Tests.Chat.Parsing;

namespace StepSharp.Tests.Cli;

/// <summary><c>stepsharp parse</c> on every case of testdata/step35-parsing/cases.json, whole and one character at a time.</summary>
[Collection(nameof(ConsoleCollection))]
public class ParseCommandTests
{
    public static TheoryData<string> Ids() => ParsingCases.Ids();

    [Theory]
    [MemberData(nameof(Ids))]
    public async Task PrintsTheExpectedResult(string id)
    {
        var c = ParsingCases.Get(id);
        string dir = Directory.CreateTempSubdirectory("stepsharp-parse-").FullName;
        try
        {
            string input = Path.Combine(dir, "raw.txt"), tools = Path.Combine(dir, "tools.json");
            File.WriteAllText(input, c.Raw);
            List<string> args = ["parse", "--format", "step35", "--input", input];
            if (c.Tools is not null)
            {
                File.WriteAllText(tools, c.Tools.ToJsonString());
                args.AddRange(["--tools", tools]);
            }
            foreach (string chunk in new[] { "0", "1", "7" })
            {
                var (code, stdout, stderr) = await CliRunner.RunAsync([.. args, "--chunk", chunk]);
                Assert.True(code == 0, stderr);
                var result = JsonNode.Parse(stdout)!;
                Assert.Equal(c.Reasoning, (string?)result["reasoning_content"]);
                Assert.Equal(c.Content, (string?)result["content"]);
                var calls = result["tool_calls"]!.AsArray();
                Assert.Equal(c.ToolCalls.Count, calls.Count);
                for (int i = 0; i < calls.Count; i++)
                {
                    Assert.Equal((string?)c.ToolCalls[i]!["name"], (string?)calls[i]!["name"]);
                    Assert.True(JsonSemantic.Equal(c.ToolCalls[i]!["arguments"], calls[i]!["arguments"]),
                        $"chunk {chunk}, call {i}: expected {c.ToolCalls[i]!["arguments"]!.ToJsonString()}, got {calls[i]!["arguments"]?.ToJsonString()}");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task UnknownFormatIsAClearError()
    {
        string input = Path.GetTempFileName();
        try
        {
            var (code, _, stderr) = await CliRunner.RunAsync("parse", "--format", "nope", "--input", input);
            Assert.Equal(1, code);
            Assert.Contains("Unknown model output format 'nope'", stderr);
        }
        finally
        {
            File.Delete(input);
        }
    }
}
