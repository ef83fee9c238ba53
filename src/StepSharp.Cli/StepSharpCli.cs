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
        ServeCommand.Create(),
        BenchServeCommand.Create(),
    };

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            return await Build().Parse(args).InvokeAsync();
        }
        catch (Exception e) when (CliErrors.IsUserError(e))
        {
            Console.Error.WriteLine($"stepsharp: {e.Message}");
            return 1;
        }
    }
}
