using System.Text;
using System.Text.Json.Nodes;
using StepSharp.Chat.Parsing;

namespace StepSharp.Tests.Chat.Parsing;

/// <summary>
/// Property test: for random texts made of markup fragments, near-miss tags and prose, the parse must not depend
/// on how the text is chunked, the stream must add up to the result, and every arguments string must be JSON.
/// </summary>
public class Step35OutputParserChunkingPropertyTests
{
    private static readonly string[] Fragments =
    [
        "<think>", "</think>", "<tool_call>", "</tool_call>", "<function=bash>", "<function=weather>", "<function=nope>",
        "<function bash>", "<function=bash\n", "<functions>", "</function>", "<parameter=command>", "<parameter=city>",
        "<parameter=timeout>", "<parameter=parameter=city>", "<parameter=city\n", "</parameter>", "</param>", "<parameter name=\"x\">",
        "\n", "\n", "\n\n", " ", "ls -la", "Paris", "42", "null", "{\"a\": 1}", "['x', True]", "a < b", "<b>", "<", ">", "=",
        "</tool_", "<tool", "<func", "</think", "東京", "🌤", "text", "Let me think.",
    ];

    private static JsonArray Tools() => JsonNode.Parse("""
        [{"type":"function","function":{"name":"bash","parameters":{"type":"object","properties":{
            "command":{"type":"string"},"timeout":{"type":"integer"}}}}},
         {"type":"function","function":{"name":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]
        """)!.AsArray();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void ChunkingNeverChangesTheResult(int seed)
    {
        var random = new Random(seed);
        for (int sample = 0; sample < 150; sample++)
        {
            var text = new StringBuilder();
            int parts = random.Next(1, 30);
            for (int i = 0; i < parts; i++) text.Append(Fragments[random.Next(Fragments.Length)]);
            string raw = text.ToString();
            bool withTools = random.Next(4) != 0;
            bool thinking = random.Next(5) != 0;

            var whole = Feed(raw, [raw], withTools, thinking);
            foreach (var pieces in new[] { ParserRun.FixedSize(raw, 1), ParserRun.FixedSize(raw, 3), ParserRun.RandomSplits(raw, seed * 1000 + sample), ParserRun.TokenLike(raw) })
            {
                var run = Feed(raw, pieces, withTools, thinking);
                string where = $"raw {System.Text.Json.JsonSerializer.Serialize(raw)}";
                Assert.True(whole.Result.ReasoningContent == run.Result.ReasoningContent, $"{where}: reasoning differs");
                Assert.True(whole.Result.Content == run.Result.Content, $"{where}: content {run.Result.Content} vs {whole.Result.Content}");
                Assert.True(whole.Result.ToolCalls.Count == run.Result.ToolCalls.Count, $"{where}: call count differs");
                for (int c = 0; c < run.Result.ToolCalls.Count; c++)
                {
                    Assert.Equal(whole.Result.ToolCalls[c].Name, run.Result.ToolCalls[c].Name);
                    Assert.Equal(whole.Result.ToolCalls[c].ArgumentsJson, run.Result.ToolCalls[c].ArgumentsJson);
                }
            }
        }
    }

    private static ParserRun Feed(string raw, IEnumerable<string> pieces, bool withTools, bool thinking)
    {
        var run = ParserRun.Feed(ModelOutputParsers.Create("step35", withTools ? Tools() : null, thinking), pieces);
        foreach (var call in run.Result.ToolCalls)
            Assert.IsType<JsonObject>(JsonNode.Parse(call.ArgumentsJson));
        // Repeated keys are the one documented case where the stream and the result differ.
        bool repeatedKey = run.Result.ToolCalls.Count != run.Arguments.Count
            || run.Result.ToolCalls.Where((c, i) => c.ArgumentsJson != run.Arguments[i].ToString()).Any();
        if (!repeatedKey) run.AssertStreamMatchesResult();
        else
        {
            Assert.Contains(run.Arguments, a => HasDuplicateKey(a.ToString()));
            Assert.Equal(run.Result.ReasoningContent ?? "", run.Reasoning.ToString());
            Assert.Equal(run.Result.Content ?? "", run.Content.ToString());
        }
        return run;
    }

    private static bool HasDuplicateKey(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        return names.Distinct().Count() < names.Count;
    }
}
