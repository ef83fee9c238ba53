using System.Text.Json.Nodes;
using StepSharp.Chat.Parsing;

namespace StepSharp.Tests.Chat.Parsing;

/// <summary>
/// Rules of testdata/step35-parsing/README.md that cases.json does not exercise, and streaming behaviour.
/// Expected values are derived by hand from the README rules.
/// </summary>
public class Step35OutputParserStreamingTests
{
    private static JsonArray CodingTools() => JsonNode.Parse("""
        [{"type":"function","function":{"name":"bash","parameters":{"type":"object","properties":{
            "command":{"type":"string"},"timeout":{"type":["integer","null"]},"flag":{"type":"boolean"}}}}},
         {"type":"function","function":{"name":"write_file","parameters":{"type":"object","properties":{
            "path":{"type":"string"},"content":{"type":"string"}}}}}]
        """)!.AsArray();

    /// <summary>Parses whole and one character at a time; both must agree and stream consistently.</summary>
    private static ParsedOutput Parse(string raw, JsonArray? tools, bool thinkingOpened = true)
    {
        var whole = ParserRun.Feed(ModelOutputParsers.Create("step35", tools?.DeepClone().AsArray(), thinkingOpened), [raw]);
        var chars = ParserRun.Feed(ModelOutputParsers.Create("step35", tools?.DeepClone().AsArray(), thinkingOpened), ParserRun.FixedSize(raw, 1));
        whole.AssertStreamMatchesResult();
        chars.AssertStreamMatchesResult();
        Assert.Equal(whole.Result.ReasoningContent, chars.Result.ReasoningContent);
        Assert.Equal(whole.Result.Content, chars.Result.Content);
        Assert.Equal(whole.Result.ToolCalls.Select(c => (c.Name, c.ArgumentsJson)), chars.Result.ToolCalls.Select(c => (c.Name, c.ArgumentsJson)));
        return whole.Result;
    }

    private static void AssertArguments(string expectedJson, ParsedToolCall call) =>
        Assert.True(JsonSemantic.Equal(JsonNode.Parse(expectedJson), JsonNode.Parse(call.ArgumentsJson)), call.ArgumentsJson);

    [Fact]
    public void ToolCallWithoutFunctionTagStaysContent()
    {
        var r = Parse("</think>\nsee\n<tool_call>oops</tool_call> done", CodingTools());
        Assert.Equal("see\n<tool_call>oops</tool_call> done", r.Content);
        Assert.Empty(r.ToolCalls);
    }

    [Fact]
    public void OutputCutInsideFunctionTagIsContent()
    {
        var r = Parse("</think>\ntext\n<tool_call>\n<function=bash", CodingTools());
        Assert.Equal("text\n<tool_call>\n<function=bash", r.Content);
        Assert.Empty(r.ToolCalls);
    }

    [Fact]
    public void FunctionTagMissingCloseBracketAndDoubledParameterPrefixAreRepaired()
    {
        var r = Parse("</think>\n<tool_call>\n<function=bash\n<parameter=parameter=command>\nls\n</parameter>\n<parameter=timeout\n5\n</parameter>\n</function>\n</tool_call>", CodingTools());
        Assert.Null(r.Content);
        var call = Assert.Single(r.ToolCalls);
        Assert.Equal("bash", call.Name);
        AssertArguments("""{"command":"ls","timeout":5}""", call); // type list ["integer","null"] → integer
    }

    [Fact]
    public void EndThinkAfterACallThatEndedReasoningIsContent()
    {
        // README rule 1.2: reasoning ended at <tool_call>; a later </think> is ordinary content text.
        var r = Parse("r\n<tool_call><function=bash><parameter=command>ls</parameter></function></tool_call>\n</think>\nok", CodingTools());
        Assert.Equal("r", r.ReasoningContent);
        Assert.Equal("</think>\nok", r.Content);
        Assert.Single(r.ToolCalls);
    }

    [Fact]
    public void FunctionTagWithoutSeparatorIsRepairedOnlyForDeclaredTools()
    {
        var r = Parse("</think>\n<tool_call><functionbash><parameter=command>pwd</parameter></function></tool_call>"
                      + "<tool_call><function other><parameter=x>1</parameter></function></tool_call>", CodingTools());
        AssertArguments("""{"command":"pwd"}""", Assert.Single(r.ToolCalls));
        Assert.Equal("<tool_call><function other><parameter=x>1</parameter></function></tool_call>", r.Content);
    }

    [Fact]
    public void RepeatedKeyLastWins()
    {
        // Streamed fragments cannot be taken back, so the stream carries both keys (JSON.parse keeps the last);
        // the result holds the key once with the last value.
        var run = ParserRun.Feed(ModelOutputParsers.Create("step35", CodingTools()),
            ["</think>\n<tool_call><function=bash><parameter=command>a</parameter><parameter=command>b</parameter></function></tool_call>"]);
        Assert.Equal("""{"command": "b"}""", run.Result.ToolCalls[0].ArgumentsJson);
        Assert.Equal("""{"command": "a", "command": "b"}""", run.Arguments[0].ToString());
    }

    [Fact]
    public void UndeclaredBareFunctionIsContentDeclaredOneIsACallAndConsumesToolCallClose()
    {
        var r = Parse("</think>\n<function=nope><parameter=x>1</parameter></function>\n<function=bash>\n<parameter=command>\nls\n</parameter>\n</function>\n </tool_call>\nDone", CodingTools());
        Assert.Equal("<function=nope><parameter=x>1</parameter></function>Done", r.Content);
        AssertArguments("""{"command":"ls"}""", Assert.Single(r.ToolCalls));
    }

    [Fact]
    public void UndeclaredWellFormedFunctionInsideToolCallIsACallWithStringValues()
    {
        var r = Parse("</think>\n<tool_call>\n<function=mystery>\n<parameter=n>\n42\n</parameter>\n</function>\n</tool_call>", CodingTools());
        Assert.Equal("mystery", r.ToolCalls[0].Name);
        AssertArguments("""{"n":"42"}""", r.ToolCalls[0]);
    }

    [Fact]
    public void WithoutToolsNoBareFunctionIsEverACall()
    {
        var r = Parse("</think>\n<function=bash><parameter=command>ls</parameter></function>", null);
        Assert.Equal("<function=bash><parameter=command>ls</parameter></function>", r.Content);
        Assert.Empty(r.ToolCalls);
    }

    [Fact]
    public void TwoFunctionsInOneBlockAreTwoCalls()
    {
        var r = Parse("</think>\n<tool_call><function=bash><parameter=command>a</parameter></function>\n<function=bash><parameter=command>b</parameter></function></tool_call>", CodingTools());
        Assert.Equal(2, r.ToolCalls.Count);
        AssertArguments("""{"command":"b"}""", r.ToolCalls[1]);
    }

    [Fact]
    public void StringValuesStreamBeforeTheirCloseTagButOtherTypesWait()
    {
        var parser = ModelOutputParsers.Create("step35", CodingTools());
        var d1 = parser.Push("</think>\n<tool_call>\n<function=write_file>\n<parameter=content>\nline one\nline two");
        var start = Assert.Single(d1.Events, e => e.Kind == ParserEventKind.ToolCallStart);
        Assert.Equal("write_file", start.ToolCallName);
        string args = string.Concat(d1.Events.Where(e => e.Kind == ParserEventKind.ToolCallArguments).Select(e => e.Text));
        Assert.Equal("{\"content\": \"line one\\nline two", args);

        var p2 = ModelOutputParsers.Create("step35", CodingTools());
        var d2 = p2.Push("</think>\n<tool_call>\n<function=bash>\n<parameter=timeout>\n12");
        Assert.DoesNotContain(d2.Events, e => e.Kind == ParserEventKind.ToolCallArguments && e.Text.Contains("12"));
        var d3 = p2.Push("\n</parameter>");
        Assert.Contains(d3.Events, e => e.Kind == ParserEventKind.ToolCallArguments && e.Text == "12");
    }

    [Fact]
    public void DeltaToolCallsViewMergesStartAndFragmentsPerCall()
    {
        var parser = ModelOutputParsers.Create("step35", CodingTools());
        var first = parser.Push("</think>\nHi<tool_call><function=bash><parameter=command>ls</parameter></function></tool_call><tool_call><function=bash><parameter=com");
        Assert.Equal("Hi", first.Content);
        var calls = first.ToolCalls;
        Assert.Equal(2, calls.Count);
        Assert.Equal((0, "bash", "{\"command\": \"ls\"}"), (calls[0].Index, calls[0].Name, calls[0].Arguments));
        Assert.Equal((1, "bash", "{"), (calls[1].Index, calls[1].Name, calls[1].Arguments));
        Assert.NotNull(calls[1].Id);
        var second = parser.Push("mand>pwd</parameter></function></tool_call>");
        var more = Assert.Single(second.ToolCalls);
        Assert.Equal((1, null, null), (more.Index, more.Id, more.Name)); // id and name only where the call starts
        Assert.Equal("\"command\": \"pwd\"}", more.Arguments);
        Assert.Equal(parser.Result.ToolCalls[1].ArgumentsJson, calls[1].Arguments + more.Arguments);
    }

    [Fact]
    public void StringValueThatIsNullIsNotStreamedAsAString()
    {
        var r = Parse("</think>\n<tool_call><function=bash><parameter=command>\nNull\n</parameter><parameter=flag>0</parameter></function></tool_call>", CodingTools());
        Assert.Equal("""{"command": null, "flag": false}""", r.ToolCalls[0].ArgumentsJson);
    }

    [Fact]
    public void ReasoningHoldsOnlyTheNewlineThatMayPrecedeEndThink()
    {
        var parser = ModelOutputParsers.Create("step35", null);
        Assert.Equal("abc", parser.Push("abc\n").Reasoning);
        Assert.Null(parser.Push("</thi").Reasoning);
        var d = parser.Push("nk>\nx");
        Assert.Null(d.Reasoning);
        Assert.Equal("x", d.Content);
    }

    [Fact]
    public void SplitSurrogatePairIsNeverEmittedHalf()
    {
        var run = ParserRun.Feed(ModelOutputParsers.Create("step35", null), ParserRun.FixedSize("思考🌤\n</think>\n晴れ🌤", 1));
        foreach (var e in run.Events)
            Assert.False(char.IsHighSurrogate(e.Text[^1]), $"delta ends in half a surrogate pair: {e.Kind}");
        Assert.Equal("思考🌤", run.Result.ReasoningContent);
        Assert.Equal("晴れ🌤", run.Result.Content);
    }

    [Fact]
    public void WithoutThinkingInPromptOutputIsContentUnlessItOpensThink()
    {
        var plain = Parse("Hello\n<tool_call><function=bash><parameter=command>ls</parameter></function></tool_call>", CodingTools(), thinkingOpened: false);
        Assert.Null(plain.ReasoningContent);
        Assert.Equal("Hello", plain.Content);
        Assert.Single(plain.ToolCalls);

        var opened = Parse("<think>\nr\n</think>\nc", null, thinkingOpened: false);
        Assert.Equal("r", opened.ReasoningContent);
        Assert.Equal("c", opened.Content);
    }

    [Fact]
    public void ToolCallIdsLookLikeOpenAiIds()
    {
        string id = Step35OutputParser.NewOpenAiToolCallId();
        Assert.Matches("^call_[0-9a-f]{24}$", id);
        Assert.NotEqual(id, Step35OutputParser.NewOpenAiToolCallId());
    }

    [Fact]
    public void OneShotParseEqualsStreamingResult()
    {
        const string raw = "think\n</think>\nok\n<tool_call>\n<function=bash>\n<parameter=timeout>\n7\n</parameter>\n</function>\n</tool_call>";
        var once = ModelOutputParsers.Parse("step35", raw, CodingTools());
        var streamed = Parse(raw, CodingTools());
        Assert.Equal(("think", "ok"), (once.ReasoningContent, once.Content));
        Assert.Equal(streamed.ToolCalls[0].ArgumentsJson, once.ToolCalls[0].ArgumentsJson);
        Assert.Equal("""{"timeout": 7}""", once.ToolCalls[0].ArgumentsJson);
    }

    [Fact]
    public void MisuseIsReportedClearly()
    {
        Assert.Throws<ArgumentException>(() => ModelOutputParsers.Create("qwen9", null));
        Assert.Throws<ArgumentException>(() => ModelOutputParsers.Create("step35", JsonNode.Parse("""[{"type":"function","function":{}}]""")!.AsArray()));
        var parser = ModelOutputParsers.Create("step35", null);
        parser.Finish();
        Assert.Throws<InvalidOperationException>(() => parser.Push("x"));
    }
}
