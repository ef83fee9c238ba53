using StepSharp.Chat.Templates;
using StepSharp.Formats;

namespace StepSharp.Cli;

/// <summary>Errors caused by what the user gave us (a file, an option): reported in one line, without a stack trace.</summary>
internal static class CliErrors
{
    public static bool IsUserError(Exception e) => e is GgufFormatException or InvalidDataException or FileNotFoundException
        or DirectoryNotFoundException or NotSupportedException or ArgumentException or UnauthorizedAccessException or IOException
        or FormatException or InvalidOperationException or TemplateException;

    /// <summary>The one line shown for a user error.</summary>
    public static string Describe(Exception e) => e is TemplateException ? $"template error: {e.Message}" : e.Message;

    /// <summary>Runs a command body, turning user errors into a message on stderr and exit code 1.</summary>
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("stepsharp: cancelled");
            return 130;
        }
        catch (Exception e) when (IsUserError(e))
        {
            Console.Error.WriteLine($"stepsharp: {Describe(e)}");
            return 1;
        }
    }
}
