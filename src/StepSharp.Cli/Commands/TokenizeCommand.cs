using System.CommandLine;
using System.Text.Json;

namespace StepSharp.Cli.Commands;

/// <summary>
/// <c>stepsharp tokenize</c>: the token ids of a text as a JSON array, like <c>llama-tokenize --ids</c> (BOS added as the
/// vocabulary says, control-token strings parsed). With --json-lines, one JSON string per input line, one array per output line.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var noBos = new Option<bool>("--no-bos") { Description = "do not add BOS/EOS even if the vocabulary asks for them" };
        var noParseSpecial = new Option<bool>("--no-parse-special") { Description = "treat control-token strings like <|im_end|> as plain text" };
        var text = new Option<string?>("--text") { Description = "the text to tokenize" };
        var file = new Option<FileInfo?>("--file") { Description = "tokenize this file's whole content (UTF-8)" };
        var jsonLines = new Option<FileInfo?>("--json-lines") { Description = "a file with one JSON string per line; prints one id array per line" };

        var command = new Command("tokenize", "print the token ids of a text as a JSON array")
        {
            model, noBos, noParseSpecial, text, file, jsonLines,
        };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            string? inline = parse.GetValue(text);
            FileInfo? whole = parse.GetValue(file), lines = parse.GetValue(jsonLines);
            if ((inline is null ? 0 : 1) + (whole is null ? 0 : 1) + (lines is null ? 0 : 1) != 1)
                throw new ArgumentException("give exactly one of --text, --file or --json-lines");
            bool addSpecial = !parse.GetValue(noBos), parseSpecial = !parse.GetValue(noParseSpecial);
            using var loaded = CommonOptions.Load(parse.GetValue(model), threads: 1); // tokenizing needs no kernel threads
            var tokenizer = loaded.Tokenizer;
            string Ids(string s) => "[" + string.Join(", ", tokenizer.Encode(s, addSpecial, parseSpecial)) + "]";

            var stdout = Console.Out;
            if (lines is null)
            {
                stdout.WriteLine(Ids(inline ?? File.ReadAllText(whole!.FullName)));
                return Task.FromResult(0);
            }
            int number = 0;
            foreach (string line in File.ReadLines(lines.FullName))
            {
                number++;
                if (line.Length == 0) continue;
                string? value;
                try
                {
                    value = JsonSerializer.Deserialize<string>(line);
                }
                catch (JsonException e)
                {
                    throw new FormatException($"{lines.FullName}, line {number}: not a JSON string ({e.Message})");
                }
                if (value is null) throw new FormatException($"{lines.FullName}, line {number}: null is not a JSON string");
                stdout.WriteLine(Ids(value));
            }
            return Task.FromResult(0);
        }));
        return command;
    }
}
