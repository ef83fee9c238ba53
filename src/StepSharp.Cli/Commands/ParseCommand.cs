using System.CommandLine;
using System.Text.Json.Nodes;
using StepSharp.Chat.Parsing;

namespace StepSharp.Cli.Commands;

/// <summary>
/// <c>stepsharp parse</c>: splits a raw model completion into reasoning, content and tool calls (spec §6.2–6.3) and prints the
/// OpenAI-style result. --chunk feeds the text in pieces, as a stream would arrive, to check that chunking changes nothing.
/// </summary>
internal static class ParseCommand
{
    public static Command Create()
    {
        var format = new Option<string>("--format") { Description = $"output format of the model family ({string.Join(", ", ModelOutputParsers.Formats)})", Required = true };
        var tools = new Option<FileInfo?>("--tools") { Description = "JSON array of the request's OpenAI-style tools (their schemas type the arguments)" };
        var input = new Option<FileInfo>("--input") { Description = "the raw completion text (what the model generated after the prompt)", Required = true };
        var chunk = new Option<int>("--chunk") { Description = "feed the parser this many characters at a time (0 = all at once)" };
        var notOpened = new Option<bool>("--thinking-not-opened") { Description = "the prompt did not end with <think> (the output starts outside reasoning)" };

        var command = new Command("parse", "parse a raw model completion into reasoning, content and tool calls (JSON)")
        {
            format, tools, input, chunk, notOpened,
        };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            int size = parse.GetValue(chunk);
            if (size < 0) throw new ArgumentException($"--chunk must be 0 or more, got {size}");
            FileInfo file = parse.GetValue(input)!;
            if (!file.Exists) throw new FileNotFoundException($"--input: file '{file.FullName}' does not exist", file.FullName);
            string raw = File.ReadAllText(file.FullName);
            var toolArray = parse.GetValue(tools) is FileInfo toolsFile ? CliJson.ReadArray(toolsFile, "--tools") : null;

            var parser = ModelOutputParsers.Create(parse.GetValue(format)!, toolArray, !parse.GetValue(notOpened));
            if (size == 0) parser.Push(raw);
            else for (int at = 0; at < raw.Length; at += size) parser.Push(raw.Substring(at, Math.Min(size, raw.Length - at)));
            parser.Finish();
            var result = parser.Result;

            var calls = new JsonArray();
            foreach (var call in result.ToolCalls)
                // Ids are random per run (call_ + hex), so they are left out to keep the output reproducible.
                calls.Add(new JsonObject { ["name"] = call.Name, ["arguments"] = JsonNode.Parse(call.ArgumentsJson) });
            var json = new JsonObject
            {
                ["reasoning_content"] = result.ReasoningContent,
                ["content"] = result.Content,
                ["tool_calls"] = calls,
            };
            Console.Out.WriteLine(json.ToJsonString(CliJson.Output));
            return Task.FromResult(0);
        }));
        return command;
    }
}
