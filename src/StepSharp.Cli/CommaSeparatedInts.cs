using System.Globalization;

namespace StepSharp.Cli;

/// <summary>Option values such as <c>--tokens 1,2,3</c> or <c>-t 1,2</c>: non-negative integers separated by commas.</summary>
internal static class CommaSeparatedInts
{
    public static int[] Parse(string text, string option, string what = "a number")
    {
        string[] parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new ArgumentException($"{option} is empty; give comma-separated values such as 1,2,3");
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
                throw new ArgumentException($"{option}: '{parts[i]}' (item {i + 1}) is not {what}");
        return values;
    }
}
