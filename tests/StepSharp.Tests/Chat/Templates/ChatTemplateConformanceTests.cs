using System.Text;
using System.Text.Json.Nodes;
using StepSharp.Chat.Templates;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Chat.Templates;

/// <summary>
/// Every template × scenario of ../shared/testdata/chat-templates, rendered by Python jinja2 3.1.6 the way
/// transformers does it (see that folder's README), must come out byte-identical, or raise the same error.
/// </summary>
public sealed class ChatTemplateConformanceTests
{
    private static readonly DateTime FixedNow = new(2026, 11, 23, 0, 0, 0); // the README's fixed strftime_now clock

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        string? root = TestData.RootOrNull;
        string? file = root is null ? null : Path.Combine(root, "chat-templates", "scenarios.json");
        if (file is null || !File.Exists(file))
        {
            data.Add("(testdata missing)", "(testdata missing)");
            return data;
        }
        var doc = JsonNode.Parse(File.ReadAllText(file))!;
        foreach (var template in doc["templates"]!.AsObject())
            foreach (var scenario in doc["scenarios"]!.AsArray())
                data.Add(template.Key, scenario!["id"]!.GetValue<string>());
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RendersLikePythonJinja2(string templateName, string scenarioId)
    {
        string dir = TestData.Path("chat-templates");
        string scenariosFile = TestData.Path("chat-templates", "scenarios.json");
        var doc = JsonNode.Parse(File.ReadAllText(scenariosFile))!;
        var info = doc["templates"]![templateName]!;
        var scenario = doc["scenarios"]!.AsArray().First(s => s!["id"]!.GetValue<string>() == scenarioId)!;

        string source = File.ReadAllText(Path.Combine(dir, info["file"]!.GetValue<string>()), Encoding.UTF8);
        var template = ChatTemplate.Parse(source, templateName).WithClock(() => FixedNow);
        var kwargs = scenario["kwargs"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value);

        string Render() => ChatTemplateRenderer.RenderChat(
            template,
            scenario["messages"]!.AsArray(),
            scenario["tools"] as JsonArray,
            scenario["add_generation_prompt"]!.GetValue<bool>(),
            info["bos_token"]?.GetValue<string>(),
            info["eos_token"]?.GetValue<string>(),
            kwargs);

        string okFile = Path.Combine(dir, "expected", $"{templateName}.{scenarioId}.txt");
        string errorFile = Path.Combine(dir, "expected", $"{templateName}.{scenarioId}.error.txt");
        if (File.Exists(okFile))
        {
            string expected = File.ReadAllText(okFile, new UTF8Encoding(false));
            Assert.Equal(expected, Render());
            return;
        }
        Assert.True(File.Exists(errorFile), $"neither {okFile} nor {errorFile} exists");
        string recorded = File.ReadAllText(errorFile, new UTF8Encoding(false));
        int colon = recorded.IndexOf(": ", StringComparison.Ordinal);
        string errorType = recorded[..colon], message = recorded[(colon + 2)..];
        if (errorType == "TemplateError")
        {
            var raised = Assert.Throws<TemplateRaisedException>(Render);
            Assert.Equal(message, raised.Message);
        }
        else
        {
            // A Python/Jinja error (e.g. iterating None): the README only requires that rendering fails.
            var ex = Assert.ThrowsAny<TemplateRuntimeException>(Render);
            Assert.IsNotType<TemplateRaisedException>(ex);
        }
    }
}
