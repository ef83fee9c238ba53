using System.CommandLine;
using Microsoft.Extensions.AI;
using StepSharp.Chat;
using StepSharp.Inference;

namespace StepSharp.Cli.Commands;

/// <summary>
/// <c>stepsharp chat</c>: an interactive multi-turn chat in the terminal, prompted with the model's own chat template.
/// Lines come from stdin, so a conversation can also be piped in; see <see cref="ChatSession"/> for the loop.
/// </summary>
internal static class ChatCommand
{
    /// <param name="script">Test seam: scripted model output instead of running the network.</param>
    public static Command Create(IScriptedOutput? script = null)
    {
        var model = CommonOptions.Model();
        var chatTemplate = new Option<FileInfo?>("--chat-template") { Description = "use this Jinja chat template instead of the model's" };
        var jsonTools = new Option<FileInfo?>("--json-tools") { Description = "JSON array of OpenAI-style tools the model may call; you type each call's result" };
        var system = new Option<string?>("--system") { Description = "system prompt" };
        var sampler = new SamplingCliOptions(2048, "most tokens per reply (reasoning included)");
        var threads = CommonOptions.Threads();
        var noMmap = CommonOptions.NoMmap();
        var ctx = CommonOptions.Context();
        var raw = new Option<bool>("--raw") { Description = "show the model's text as generated, without splitting reasoning and tool calls" };

        var command = new Command("chat", "chat with a model in the terminal (/reset, /system TEXT, /exit)")
        {
            model, chatTemplate, jsonTools, system, threads, noMmap, ctx, raw,
        };
        sampler.AddTo(command);
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            int maxTokens = sampler.ReadMaxTokens(parse, 1);
            var sampling = sampler.ReadSampling(parse);
            var tools = parse.GetValue(jsonTools) is FileInfo toolsFile ? ToolDeclarations(CliJson.ReadArray(toolsFile, "--json-tools")) : null;
            string? templateSource = null;
            if (parse.GetValue(chatTemplate) is FileInfo templateFile)
            {
                if (!templateFile.Exists) throw new FileNotFoundException($"--chat-template: file '{templateFile.FullName}' does not exist", templateFile.FullName);
                templateSource = File.ReadAllText(templateFile.FullName);
            }

            using var loaded = CommonOptions.Load(parse.GetValue(model), parse.GetValue(threads), parse.GetValue(noMmap));
            Console.Error.WriteLine($"model: {loaded.Description} ({loaded.Model.Architecture}), {loaded.Pool.ThreadCount} threads");
            var formatter = ChatPromptFormatter.ForModel(loaded, templateSource);
            using var engine = new SerialCompletionEngine(loaded, parse.GetValue(ctx), script: script);
            using var client = new StepSharpChatClient(engine, formatter) { DefaultSampling = sampling, ParseOutput = !parse.GetValue(raw) };
            var options = new ChatOptions { MaxOutputTokens = maxTokens, Tools = tools };
            var session = new ChatSession(client, options, Console.In, StdoutConsole.Create(), parse.GetValue(system));
            Console.Error.WriteLine("type a message; /reset clears the conversation, /system TEXT sets the system prompt, /exit quits");
            await session.RunAsync(cancellation);
            return 0;
        }));
        return command;
    }

    /// <summary>OpenAI-style tool JSON as function declarations (the chat client turns them back into the same JSON for the template).</summary>
    private static List<AITool> ToolDeclarations(System.Text.Json.Nodes.JsonArray tools)
    {
        var result = new List<AITool>();
        for (int i = 0; i < tools.Count; i++)
        {
            var function = tools[i]?["function"] ?? throw new FormatException($"--json-tools: entry {i} has no \"function\" object");
            string name = (string?)function["name"] ?? throw new FormatException($"--json-tools: entry {i} has no function name");
            var parameters = function["parameters"] ?? new System.Text.Json.Nodes.JsonObject { ["type"] = "object" };
            using var schema = System.Text.Json.JsonDocument.Parse(parameters.ToJsonString());
            result.Add(AIFunctionFactory.CreateDeclaration(name, (string?)function["description"], schema.RootElement.Clone()));
        }
        return result;
    }
}
