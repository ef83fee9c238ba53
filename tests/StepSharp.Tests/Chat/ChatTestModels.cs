using System.Text.Json.Nodes;
using StepSharp.Chat;
using StepSharp.Chat.Templates;
using StepSharp.Inference;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Chat;

/// <summary>The models the chat tests run on: the built-in demo model with its own template, and the tiny llama.cpp-checked
/// Step 3.5 model with the real StepFun3.5-Flash template and the bos/eos texts scenarios.json gives it.</summary>
internal static class ChatTestModels
{
    public const string Demo = "demo";
    public const string TinyWithRealTemplate = "tiny+StepFun3.5-Flash.jinja";

    public static (LoadedModel Model, ChatPromptFormatter Formatter) Load(string which)
    {
        if (which == Demo)
        {
            var demo = DemoModel.Load(1);
            return (demo, ChatPromptFormatter.ForModel(demo));
        }
        string templatePath = TestData.Path("chat-templates", "StepFun3.5-Flash.jinja");
        var scenarios = JsonNode.Parse(File.ReadAllText(TestData.Path("chat-templates", "scenarios.json")))!;
        var info = scenarios["templates"]!["StepFun3.5-Flash"]!;
        var model = LoadedModel.Open(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"), 1);
        var template = ChatTemplate.Parse(File.ReadAllText(templatePath), "StepFun3.5-Flash.jinja");
        return (model, new ChatPromptFormatter(template, (string?)info["bos_token"], (string?)info["eos_token"], "step35"));
    }
}
