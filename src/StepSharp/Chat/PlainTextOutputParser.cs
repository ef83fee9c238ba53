using System.Text;
using StepSharp.Chat.Parsing;

namespace StepSharp.Chat;

/// <summary>
/// The "parser" of models without a known output format: every character is content; no reasoning, no tool calls.
/// </summary>
public sealed class PlainTextOutputParser : IModelOutputParser
{
    private readonly StringBuilder _text = new();

    public ParserDelta Push(string chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (chunk.Length == 0) return ParserDelta.Empty;
        _text.Append(chunk);
        return new ParserDelta([new ParserEvent(ParserEventKind.Content, chunk)]);
    }

    public ParserDelta Finish() => ParserDelta.Empty;

    public ParsedOutput Result => new(null, _text.Length == 0 ? null : _text.ToString(), []);
}
