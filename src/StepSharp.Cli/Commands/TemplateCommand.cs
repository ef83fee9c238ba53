using System.CommandLine;
using System.Globalization;
using StepSharp.Chat;
using StepSharp.Chat.Templates;

namespace StepSharp.Cli.Commands;

/// <summary>
/// <c>stepsharp template</c>: prints exactly what a chat template renders for a conversation, the way transformers'
/// <c>apply_chat_template</c> calls it (tools=None when absent; a special token that is not given stays undefined).
/// </summary>
internal static class TemplateCommand
{
    public static Command Create()
    {
        var template = new Option<FileInfo?>("--template") { Description = "a Jinja chat template file" };
        var model = new Option<string?>("--model", "-m") { Description = "use this GGUF model's template and BOS/EOS texts (default without --template: the demo model)" };
        var messages = new Option<FileInfo>("--messages") { Description = "JSON array of OpenAI-style messages", Required = true };
        var tools = new Option<FileInfo?>("--tools") { Description = "JSON array of OpenAI-style tools" };
        var noGenerationPrompt = new Option<bool>("--no-generation-prompt") { Description = "render add_generation_prompt=false" };
        var bos = new Option<string?>("--bos") { Description = "bos_token text" };
        var eos = new Option<string?>("--eos") { Description = "eos_token text" };
        var variables = new Option<string[]>("--var") { Description = "extra template variable NAME=JSON (repeatable), e.g. enable_thinking=false" };
        var now = new Option<string?>("--now") { Description = "the time strftime_now sees (ISO 8601, e.g. 2026-11-23T00:00:00), for reproducible renders" };

        var command = new Command("template", "render a chat template for a conversation and print the exact prompt text")
        {
            template, model, messages, tools, noGenerationPrompt, bos, eos, variables, now,
        };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            FileInfo? templateFile = parse.GetValue(template);
            string? modelPath = parse.GetValue(model);
            if (templateFile is not null && modelPath is not null) throw new ArgumentException("give either --template or --model, not both");
            var messageArray = CliJson.ReadArray(parse.GetValue(messages)!, "--messages");
            var toolArray = parse.GetValue(tools) is FileInfo toolsFile ? CliJson.ReadArray(toolsFile, "--tools") : null;
            var extra = CliJson.ReadVariables(parse.GetValue(variables) ?? []);

            ChatTemplate chatTemplate;
            string? bosText = parse.GetValue(bos), eosText = parse.GetValue(eos);
            if (templateFile is not null)
            {
                if (!templateFile.Exists) throw new FileNotFoundException($"--template: file '{templateFile.FullName}' does not exist", templateFile.FullName);
                chatTemplate = ChatTemplate.Parse(File.ReadAllText(templateFile.FullName), templateFile.Name);
            }
            else
            {
                using var loaded = CommonOptions.Load(modelPath, threads: 1);
                var formatter = ChatPromptFormatter.ForModel(loaded);
                chatTemplate = formatter.Template;
                bosText ??= formatter.BosToken;
                eosText ??= formatter.EosToken;
            }
            if (parse.GetValue(now) is string time)
            {
                if (!DateTime.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.None, out var fixedTime))
                    throw new ArgumentException($"--now '{time}' is not a date/time (use ISO 8601, e.g. 2026-11-23T00:00:00)");
                chatTemplate = chatTemplate.WithClock(() => fixedTime);
            }
            string prompt = ChatTemplateRenderer.RenderChat(chatTemplate, messageArray, toolArray, !parse.GetValue(noGenerationPrompt), bosText, eosText, extra);
            Console.Out.Write(prompt);
            Console.Out.Flush();
            return Task.FromResult(0);
        }));
        return command;
    }
}
