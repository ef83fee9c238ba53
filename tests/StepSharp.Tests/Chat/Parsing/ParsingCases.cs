using System.Text.Json.Nodes;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Chat.Parsing;

/// <summary>Loads testdata/step35-parsing/cases.json (format "stepsharp-step35-parsing/1", see its README).</summary>
internal static class ParsingCases
{
    public sealed record Case(string Id, JsonArray? Tools, string Raw, string? Reasoning, string? Content, JsonArray ToolCalls);

    private static readonly Lazy<IReadOnlyDictionary<string, Case>?> Loaded = new(Load);

    /// <summary>Case ids for [MemberData]; a placeholder when the data is absent so the test reports a skip.</summary>
    public static TheoryData<string> Ids()
    {
        var data = new TheoryData<string>();
        if (Loaded.Value is null) data.Add("<testdata missing>");
        else foreach (string id in Loaded.Value.Keys) data.Add(id);
        return data;
    }

    public static Case Get(string id)
    {
        string path = TestData.Path("step35-parsing", "cases.json"); // skips when absent
        var cases = Loaded.Value ?? throw new InvalidOperationException($"could not load {path}");
        return cases[id];
    }

    private static IReadOnlyDictionary<string, Case>? Load()
    {
        if (TestData.RootOrNull is null) return null;
        string path = System.IO.Path.Combine(TestData.RootOrNull, "step35-parsing", "cases.json");
        if (!File.Exists(path)) return null;
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.Equal("stepsharp-step35-parsing/1", (string?)root["format"]);
        var toolSets = root["tool_sets"]!.AsObject();
        var result = new Dictionary<string, Case>();
        foreach (var node in root["cases"]!.AsArray())
        {
            string? toolsKey = (string?)node!["tools"];
            var expected = node["expected"]!;
            result.Add((string)node["id"]!, new Case(
                (string)node["id"]!,
                toolsKey is null ? null : toolSets[toolsKey]!.DeepClone().AsArray(),
                (string)node["raw"]!,
                (string?)expected["reasoning_content"],
                (string?)expected["content"],
                expected["tool_calls"]!.AsArray()));
        }
        return result;
    }
}
