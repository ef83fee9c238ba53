using System.CommandLine;
using StepSharp.Formats;

namespace StepSharp.Cli.Commands;

/// <summary><c>stepsharp quantize IN OUT TYPE</c>: re-encode a GGUF's weight matrices (Q8_0, Q4_K, Q6_K, the Q4_K_M / Q4_K_S mixes, ...).</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "source GGUF" };
        var output = new Argument<string>("output") { Description = "GGUF to write" };
        var type = new Argument<string>("type") { Description = string.Join(", ", GgufQuantizer.Recipes) };
        var command = new Command("quantize", "re-encode a GGUF file's weights to another type") { input, output, type };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            string src = parse.GetValue(input)!, dst = parse.GetValue(output)!;
            if (Path.GetFullPath(src) == Path.GetFullPath(dst)) throw new ArgumentException("input and output are the same file");
            GgufWriter writer;
            using (var file = GgufFile.Open(src)) writer = GgufQuantizer.Quantize(file, parse.GetValue(type)!);
            using (var stream = File.Create(dst)) writer.WriteTo(stream);
            Console.Error.WriteLine($"wrote {dst} ({parse.GetValue(type)}): {new FileInfo(src).Length / 1048576.0:F1} MiB → {new FileInfo(dst).Length / 1048576.0:F1} MiB");
            return Task.FromResult(0);
        }));
        return command;
    }
}
