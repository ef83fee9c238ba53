using System.CommandLine;
using StepSharp.Models.Step35;
using StepSharp.Tensors;

namespace StepSharp.Cli.Commands;

/// <summary><c>stepsharp make-model</c>: write a random-weight step35 GGUF of a preset shape, so benchmarks never need outside files.</summary>
internal static class MakeModelCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "shape: demo, tiny, mini, full-N (Step 3.5 Flash dimensions, N trunk layers)", DefaultValueFactory = _ => "mini" };
        var output = new Option<string>("--output", "-o") { Description = "GGUF file to write", Required = true };
        var type = new Option<string>("--type") { Description = "weight matrix type: F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K", DefaultValueFactory = _ => "F32" };
        var seed = new Option<ulong>("--seed") { Description = "random seed", DefaultValueFactory = _ => 1234UL };
        var command = new Command("make-model", "write a random-weight Step 3.5 GGUF of a preset shape") { preset, output, type, seed };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            var shape = Step35ModelShape.Preset(parse.GetValue(preset)!);
            string typeName = parse.GetValue(type)!;
            if (!Enum.TryParse(typeName, ignoreCase: true, out GgmlType weightType) || !Quantize.Supports(weightType))
                throw new ArgumentException($"--type '{typeName}' is not a type we can write (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K)");
            long parameters = shape.TotalParameters;
            if (parameters * sizeof(float) > 8L << 30)
                throw new ArgumentException($"preset '{shape.Name}' has {parameters / 1e9:F1} B parameters; generation holds the F32 weights in memory, so it is limited to 8 GB (choose fewer layers)");
            var writer = Step35RandomModel.Build(shape, parse.GetValue(seed), weightType);
            string path = parse.GetValue(output)!;
            using (var stream = File.Create(path)) writer.WriteTo(stream);
            Console.Error.WriteLine($"wrote {path}: {shape.Name}, {weightType}, {parameters / 1e6:F1} M parameters ({shape.ActiveParameters / 1e6:F1} M active per token), {new FileInfo(path).Length / 1048576.0:F1} MiB");
            return Task.FromResult(0);
        }));
        return command;
    }
}
