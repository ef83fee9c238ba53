using System.CommandLine;
using StepSharp.Cli.Commands;

namespace StepSharp.Cli;

/// <summary>
/// The <c>stepsharp</c> command line. Generated text and machine-readable results go to stdout,
/// diagnostics and progress to stderr; a bad file or option gives one line on stderr and exit code 1.
/// </summary>
public static class StepSharpCli
{
    public static RootCommand Build() => new("StepSharp: a pure C# inference engine for the Step 3.5 Flash model family")
    {
        GenerateCommand.Create(),
        LogitsCommand.Create(),
        InspectCommand.Create(),
        MakeModelCommand.Create(),
        QuantizeCommand.Create(),
        BenchCommand.Create(),
        ChatCommand.Create(),
        TokenizeCommand.Create(),
        TemplateCommand.Create(),
        ParseCommand.Create(),
        ServeCommand.Create(),
        BenchServeCommand.Create(),
    };

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Build());

    /// <summary>Runs <paramref name="args"/> against <paramref name="root"/> (tests pass a root whose commands carry test seams).</summary>
    public static async Task<int> RunAsync(string[] args, RootCommand root)
    {
        try
        {
            return await root.Parse(args).InvokeAsync();
        }
        catch (Exception e) when (CliErrors.IsUserError(e))
        {
            Console.Error.WriteLine($"stepsharp: {CliErrors.Describe(e)}");
            return 1;
        }
    }
}
