using System.CommandLine;
using StepSharp.Cli;

namespace StepSharp.Tests.Cli;

/// <summary>Console redirection is process-wide, so tests that run the CLI in-process never run in parallel.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

public static class CliRunner
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
        => RunWithInputAsync("", null, args);

    /// <summary>Runs the CLI with <paramref name="stdin"/> as standard input (interactive commands), optionally against a custom root.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunWithInputAsync(string stdin, RootCommand? root, params string[] args)
    {
        await Gate.WaitAsync();
        TextWriter oldOut = Console.Out, oldErr = Console.Error;
        TextReader oldIn = Console.In;
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        try
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            Console.SetIn(new StringReader(stdin));
            int code = await StepSharpCli.RunAsync(args, root ?? StepSharpCli.Build());
            return (code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
            Console.SetIn(oldIn);
            Gate.Release();
        }
    }
}
