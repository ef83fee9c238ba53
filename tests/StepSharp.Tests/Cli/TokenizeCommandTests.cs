using System.Text.Json;
using System.Text.Json.Nodes;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Cli;

/// <summary><c>stepsharp tokenize</c> against llama-tokenize's ids for the tiny model (testdata/step35-tiny/tokenizer.json).</summary>
[Collection(nameof(ConsoleCollection))]
public class TokenizeCommandTests
{
    private static (string Model, List<(string Text, int[] Ids)> Cases) Reference()
    {
        var doc = JsonNode.Parse(File.ReadAllText(TestData.Path("step35-tiny", "tokenizer.json")))!;
        Assert.True((bool)doc["add_bos"]! && (bool)doc["parse_special"]!);
        var cases = doc["cases"]!.AsArray().Select(c => ((string)c!["text"]!, c["ids"]!.AsArray().Select(i => (int)i!).ToArray())).ToList();
        return (TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"), cases);
    }

    private static int[] Ids(string line) => JsonSerializer.Deserialize<int[]>(line)!;

    [Fact]
    public async Task TextGivesLlamaTokenizeIds()
    {
        var (model, cases) = Reference();
        foreach (var (text, ids) in cases)
        {
            var (code, stdout, stderr) = await CliRunner.RunAsync("tokenize", "--model", model, "--text", text);
            Assert.True(code == 0, stderr);
            Assert.Equal(ids, Ids(stdout));
        }
    }

    [Fact]
    public async Task JsonLinesGiveOneArrayPerLineAndNoBosDropsIt()
    {
        var (model, cases) = Reference();
        string input = Path.Combine(Path.GetTempPath(), $"stepsharp-tok-{Guid.NewGuid():N}.jsonl");
        try
        {
            File.WriteAllLines(input, cases.Select(c => JsonSerializer.Serialize(c.Text)));
            var (code, stdout, stderr) = await CliRunner.RunAsync("tokenize", "--model", model, "--json-lines", input, "--no-bos");
            Assert.True(code == 0, stderr);
            string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(cases.Count, lines.Length);
            for (int i = 0; i < lines.Length; i++)
                Assert.Equal(cases[i].Ids[1..], Ids(lines[i])); // the reference starts with BOS (add_bos)

            var file = await CliRunner.RunAsync("tokenize", "--model", model, "--file", input);
            Assert.True(file.ExitCode == 0, file.Stderr);
            Assert.Equal(506, Ids(file.Stdout)[0]);
        }
        finally
        {
            File.Delete(input);
        }
    }

    [Fact]
    public async Task NoParseSpecialSpellsControlTokensOutAsBytes()
    {
        var (model, _) = Reference();
        var (code, stdout, _) = await CliRunner.RunAsync("tokenize", "--model", model, "--text", "<|im_end|>", "--no-parse-special", "--no-bos");
        Assert.Equal(0, code);
        int[] ids = Ids(stdout);
        Assert.True(ids.Length > 1 && ids.All(id => id < 506), stdout); // bytes and merges only, no control token
        var special = await CliRunner.RunAsync("tokenize", "--model", model, "--text", "<|im_end|>", "--no-bos");
        Assert.Equal([509], Ids(special.Stdout)); // README: control tokens 506-511 are <|bos|> <|endoftext|> <|im_start|> <|im_end|> ...
    }

    [Fact]
    public async Task WithoutModelTheDemoModelIsUsedAndInputMustBeExactlyOne()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("tokenize", "--text", "<|im_start|>");
        Assert.True(code == 0, stderr);
        Assert.Equal([256, 258], Ids(stdout)); // demo vocabulary: <|bos|> = 256, <|im_start|> = 258
        var none = await CliRunner.RunAsync("tokenize");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("exactly one", none.Stderr);
    }
}
