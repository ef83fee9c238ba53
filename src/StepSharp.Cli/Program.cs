using System.CommandLine;
using StepSharp.Cli.Commands;

// stepsharp: generated text and machine-readable results go to stdout, diagnostics to stderr.
var root = new RootCommand("StepSharp: a pure C# inference engine for the Step 3.5 Flash model family")
{
    GenerateCommand.Create(),
    LogitsCommand.Create(),
    InspectCommand.Create(),
};
try
{
    return await root.Parse(args).InvokeAsync();
}
catch (Exception e) when (CliErrors.IsUserError(e))
{
    Console.Error.WriteLine($"stepsharp: {e.Message}");
    return 1;
}
