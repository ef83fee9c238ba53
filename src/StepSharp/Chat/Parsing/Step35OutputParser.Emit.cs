namespace StepSharp.Chat.Parsing;

public sealed partial class Step35OutputParser
{
    private StreamingToolCall CurrentCall => _calls[^1];

    private void BeginCall(string name, bool bare)
    {
        int index = _calls.Count;
        string id = _newToolCallId();
        _events.Add(new ParserEvent(ParserEventKind.ToolCallStart, "", index, id, name));
        _calls.Add(new StreamingToolCall(index, id, name, _tools, fragment => Emit(ParserEventKind.ToolCallArguments, fragment, index)));
        _bare = bare;
        _state = State.FunctionBody;
    }

    /// <summary>Consumes through a closing &lt;/tool_call&gt; and returns to content (its next newline belongs to the call).</summary>
    private void EndOfCallMarkup(int consumed)
    {
        if (_calls.Count > 0) CurrentCall.Close();
        _at += consumed;
        _blockHasCall = false;
        _dropLeadingNewline = true;
        _state = State.Content;
    }

    private void EmitReasoning(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return;
        _reasoning.Append(text);
        Emit(ParserEventKind.Reasoning, text.ToString());
    }

    /// <summary>
    /// Content that is only whitespace so far is held: the final content is null when blank (README rule 5),
    /// and holding keeps the concatenated deltas equal to the result.
    /// </summary>
    private void EmitContent(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return;
        if (_content.Length == 0)
        {
            if (text.IsWhiteSpace())
            {
                _contentWhitespace.Append(text);
                return;
            }
            string joined = _contentWhitespace.Length == 0 ? text.ToString() : _contentWhitespace + text.ToString();
            _contentWhitespace.Clear();
            _content.Append(joined);
            Emit(ParserEventKind.Content, joined);
            return;
        }
        _content.Append(text);
        Emit(ParserEventKind.Content, text.ToString());
    }

    /// <summary>Adds an event, merging it into the previous one of the same kind (and call) to keep deltas few.</summary>
    private void Emit(ParserEventKind kind, string text, int callIndex = -1)
    {
        if (text.Length == 0) return;
        if (_events.Count > 0)
        {
            ParserEvent last = _events[^1];
            if (last.Kind == kind && last.ToolCallIndex == callIndex)
            {
                _events[^1] = last with { Text = last.Text + text };
                return;
            }
        }
        _events.Add(new ParserEvent(kind, text, callIndex));
    }

    private ParserDelta TakeEvents()
    {
        if (_events.Count == 0) return ParserDelta.Empty;
        var delta = new ParserDelta(_events);
        _events = [];
        return delta;
    }
}
