using Spectre.Console;

namespace StepSharp.Cli;

/// <summary>A Spectre console on stderr, so progress and diagnostics never mix with the text on stdout.</summary>
internal static class StderrConsole
{
    public static IAnsiConsole Instance { get; } = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Error),
    });
}
