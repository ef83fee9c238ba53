namespace StepSharp.Chat.Templates;

/// <summary>Base of every error raised while parsing or rendering a chat template.</summary>
public abstract class TemplateException : Exception
{
    protected TemplateException(string message, string templateName, int line, Exception? inner = null)
        : base(message, inner)
    {
        TemplateName = templateName;
        Line = line;
    }

    /// <summary>Name given to <see cref="ChatTemplate.Parse"/> (usually the file name).</summary>
    public string TemplateName { get; }

    /// <summary>1-based source line of the construct that failed (0 when unknown).</summary>
    public int Line { get; }
}

/// <summary>The template source is malformed or uses a construct this engine does not support.</summary>
public sealed class TemplateSyntaxException : TemplateException
{
    public TemplateSyntaxException(string message, string templateName, int line, int column)
        : base($"{templateName}:{line}:{column}: {message}", templateName, line)
    {
        Column = column;
        Detail = message;
    }

    public int Column { get; }

    /// <summary>The message without the location prefix.</summary>
    public string Detail { get; }
}

/// <summary>
/// Rendering failed the way Python/Jinja2 would fail (TypeError, UndefinedError, ...).
/// The message starts with "name:line:" so the failing construct can be found.
/// </summary>
public class TemplateRuntimeException : TemplateException
{
    public TemplateRuntimeException(string message, string templateName, int line, Exception? inner = null)
        : this($"{templateName}:{line}: {message}", message, templateName, line, inner)
    {
    }

    protected TemplateRuntimeException(string fullMessage, string detail, string templateName, int line, Exception? inner)
        : base(fullMessage, templateName, line, inner)
    {
        Detail = detail;
    }

    /// <summary>The Python-style message without the location prefix.</summary>
    public string Detail { get; }
}

/// <summary>
/// The template called <c>raise_exception(msg)</c> (transformers' TemplateError). <see cref="Exception.Message"/>
/// is exactly the template's message, because callers show it to users verbatim.
/// </summary>
public sealed class TemplateRaisedException : TemplateRuntimeException
{
    public TemplateRaisedException(string message, string templateName, int line)
        : base(message, message, templateName, line, null)
    {
    }
}

/// <summary>
/// Error raised inside value operations, before the interpreter knows the line. The interpreter wraps it
/// into a <see cref="TemplateRuntimeException"/> naming the line. PythonType is the Python exception name.
/// </summary>
internal sealed class TemplateValueError : Exception
{
    public TemplateValueError(string pythonType, string message) : base(message) => PythonType = pythonType;

    public string PythonType { get; }

    public static TemplateValueError Type(string message) => new("TypeError", message);
    public static TemplateValueError Value(string message) => new("ValueError", message);
}

/// <summary>Thrown by raise_exception(); carries the message up to the interpreter, which adds the line.</summary>
internal sealed class TemplateRaiseSignal(string message) : Exception(message);
