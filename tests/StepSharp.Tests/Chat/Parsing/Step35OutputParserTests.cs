using System.Text.Json.Nodes;
using StepSharp.Chat.Parsing;

namespace StepSharp.Tests.Chat.Parsing;

/// <summary>
/// Every case of testdata/step35-parsing/cases.json, parsed whole and under many chunkings: the result must
/// equal the expectation and the deltas must add up to the result without ever showing markup.
/// </summary>
public class Step35OutputParserTests
{
    // Markup that must never leak into a reasoning/content delta unless the expected text itself contains it.
    private static readonly string[] Markup = ["</think>", "<tool_call>", "</tool_call>", "<function=", "</function>", "<parameter=", "</parameter>"];

    public static TheoryData<string> CaseIds() => ParsingCases.Ids();

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void WholeText(string id)
    {
        var c = ParsingCases.Get(id);
        Check(c, [c.Raw], "whole");
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void FixedChunkSizes(string id)
    {
        var c = ParsingCases.Get(id);
        foreach (int size in (int[])[1, 2, 3, 5, 7, 16])
            Check(c, ParserRun.FixedSize(c.Raw, size), $"chunks of {size}");
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void TokenLikeAndRandomSplits(string id)
    {
        var c = ParsingCases.Get(id);
        Check(c, ParserRun.TokenLike(c.Raw), "token-like");
        for (int seed = 1; seed <= 20; seed++)
            Check(c, ParserRun.RandomSplits(c.Raw, seed), $"random seed {seed}");
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void EverySingleSplitPoint(string id)
    {
        var c = ParsingCases.Get(id);
        for (int at = 1; at < c.Raw.Length; at++)
            Check(c, [c.Raw[..at], c.Raw[at..]], $"split at {at}");
    }

    private static void Check(ParsingCases.Case c, IEnumerable<string> pieces, string how)
    {
        var run = ParserRun.Feed(ModelOutputParsers.Create("step35", c.Tools?.DeepClone().AsArray()), pieces);
        string where = $"case {c.Id}, {how}";
        Assert.True(c.Reasoning == run.Result.ReasoningContent, $"{where}: reasoning {Show(run.Result.ReasoningContent)} != expected {Show(c.Reasoning)}");
        Assert.True(c.Content == run.Result.Content, $"{where}: content {Show(run.Result.Content)} != expected {Show(c.Content)}");
        Assert.True(c.ToolCalls.Count == run.Result.ToolCalls.Count, $"{where}: {run.Result.ToolCalls.Count} tool calls, expected {c.ToolCalls.Count}");
        for (int i = 0; i < c.ToolCalls.Count; i++)
        {
            var actual = run.Result.ToolCalls[i];
            Assert.Equal((string)c.ToolCalls[i]!["name"]!, actual.Name);
            Assert.StartsWith("call_", actual.Id);
            var arguments = JsonNode.Parse(actual.ArgumentsJson);
            Assert.True(JsonSemantic.Equal(c.ToolCalls[i]!["arguments"], arguments),
                $"{where}: call {i} arguments {actual.ArgumentsJson} != expected {c.ToolCalls[i]!["arguments"]!.ToJsonString()}");
            AssertKeyOrder(c.ToolCalls[i]!["arguments"]!.AsObject(), arguments!.AsObject(), where);
        }
        run.AssertStreamMatchesResult();
        foreach (var e in run.Events)
        {
            if (e.Kind is not (ParserEventKind.Reasoning or ParserEventKind.Content)) continue;
            string? whole = e.Kind == ParserEventKind.Reasoning ? c.Reasoning : c.Content;
            foreach (string tag in Markup)
                Assert.False(e.Text.Contains(tag) && whole?.Contains(tag) != true, $"{where}: {e.Kind} delta {Show(e.Text)} shows {tag}");
        }
    }

    /// <summary>The README: an engine should keep the output order of keys in the arguments it emits.</summary>
    private static void AssertKeyOrder(JsonObject expected, JsonObject actual, string where)
    {
        var expectedKeys = expected.Select(p => p.Key).ToArray();
        var actualKeys = actual.Select(p => p.Key).ToArray();
        Assert.True(expectedKeys.SequenceEqual(actualKeys), $"{where}: key order {string.Join(",", actualKeys)} != {string.Join(",", expectedKeys)}");
    }

    private static string Show(string? s) => s is null ? "null" : System.Text.Json.JsonSerializer.Serialize(s);
}
