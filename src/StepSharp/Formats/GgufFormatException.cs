namespace StepSharp.Formats;

/// <summary>
/// A GGUF file is malformed or unsupported. The message always names the file and, where it applies,
/// the byte offset and the key or tensor concerned.
/// </summary>
public sealed class GgufFormatException : Exception
{
    public GgufFormatException(string filePath, string problem, long? offset = null, Exception? inner = null)
        : base(Format(filePath, problem, offset), inner)
    {
        FilePath = filePath;
        Problem = problem;
        Offset = offset;
    }

    /// <summary>The file path (or display name of an in-memory image).</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; }

    /// <summary>Byte offset in the file where the problem was found, when it is a parse error.</summary>
    public long? Offset { get; }

    private static string Format(string path, string problem, long? offset) =>
        offset is long at ? $"{path}: at byte {at}: {problem}" : $"{path}: {problem}";
}
