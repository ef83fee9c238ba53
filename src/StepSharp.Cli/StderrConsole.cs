using Spectre.Console;

namespace StepSharp.Cli;

/// <summary>A Spectre console on stderr, so progress and diagnostics never mix with the text on stdout.</summary>
internal static class StderrConsole
{
    public static IAnsiConsole Instance => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
}

/// <summary>
/// A Spectre console on the current stdout (created per command, so redirection is honoured); when stdout is not a
/// terminal, tables are not cut to 80 columns.
/// </summary>
internal static class StdoutConsole
{
    public static IAnsiConsole Create()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected || Console.Out is StringWriter) console.Profile.Width = 240;
        return console;
    }
}
