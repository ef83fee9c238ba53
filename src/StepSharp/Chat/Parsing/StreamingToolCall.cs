using System.Text;

namespace StepSharp.Chat.Parsing;

/// <summary>
/// One tool call being parsed: collects parameters, converts them by schema, and writes the arguments JSON
/// object as fragments suitable for OpenAI streaming (<c>{</c>, <c>"key": </c>, value text, <c>, </c> …, <c>}</c>).
/// String-typed values are streamed as they arrive (long file contents should not wait for <c>&lt;/parameter&gt;</c>);
/// other types are written once the value is complete, because conversion needs the whole value.
/// </summary>
internal sealed class StreamingToolCall
{
    private readonly ToolSchemaSet _tools;
    private readonly Action<string> _emitArguments;
    // Completed parameters in output order; a repeated key keeps its first position and takes the last value.
    private readonly List<KeyValuePair<string, string>> _arguments = [];
    private readonly StringBuilder _value = new();
    private string? _key;
    private ToolParameterKind _kind;
    private bool _streamingString;   // opening quote already written
    private int _streamedChars;      // raw value characters already written inside the quotes
    private bool _wroteAny;

    public StreamingToolCall(int index, string id, string name, ToolSchemaSet tools, Action<string> emitArguments)
    {
        Index = index;
        Id = id;
        Name = name;
        _tools = tools;
        _emitArguments = emitArguments;
        _emitArguments("{");
    }

    public int Index { get; }
    public string Id { get; }
    public string Name { get; }
    public bool IsClosed { get; private set; }
    public bool InParameter => _key is not null;

    public void BeginParameter(string key)
    {
        _key = key;
        _kind = _tools.KindOf(Name, key);
        _value.Clear();
        _streamingString = false;
        _streamedChars = 0;
        _emitArguments((_wroteAny ? ", " : "") + JsonText.Quoted(key) + ": ");
        _wroteAny = true;
    }

    /// <summary>Adds raw value text (the caller already removed the value's one leading newline).</summary>
    public void AppendValue(ReadOnlySpan<char> text)
    {
        _value.Append(text);
        if (_kind != ToolParameterKind.String) return;
        if (!_streamingString)
        {
            // Hold while the value could still turn out to be the literal null (any case), which is not a string.
            if (_value.Length == 0 || CouldStillBeNull()) return;
            _streamingString = true;
            _emitArguments("\"");
        }
        // Keep one trailing newline back: it is dropped if the value ends right after it.
        int certain = _value.Length - (_value[^1] == '\n' ? 1 : 0);
        if (certain > _streamedChars)
        {
            var sb = new StringBuilder();
            JsonText.AppendEscaped(sb, _value.ToString(_streamedChars, certain - _streamedChars));
            _streamedChars = certain;
            _emitArguments(sb.ToString());
        }
    }

    public void EndParameter()
    {
        if (_key is null) return;
        string raw = _value.ToString();
        if (raw.EndsWith('\n')) raw = raw[..^1];
        string json = ToolArgumentConverter.ToJson(raw, _kind);
        if (_streamingString)
            _emitArguments(JsonText.Escaped(raw.AsSpan(_streamedChars)) + "\"");
        else
            _emitArguments(json);

        int existing = _arguments.FindIndex(p => p.Key == _key);
        if (existing >= 0) _arguments[existing] = new(_key, json);
        else _arguments.Add(new(_key, json));
        _key = null;
    }

    public void Close()
    {
        if (IsClosed) return;
        EndParameter();
        IsClosed = true;
        _emitArguments("}");
    }

    /// <summary>
    /// The arguments object of the completed parameters. Equals the concatenated fragments unless a key was
    /// repeated: the stream then holds both (JSON.parse keeps the last), this string holds the last value once.
    /// </summary>
    public string ArgumentsJson()
    {
        var sb = new StringBuilder("{");
        for (int i = 0; i < _arguments.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(JsonText.Quoted(_arguments[i].Key)).Append(": ").Append(_arguments[i].Value);
        }
        return sb.Append('}').ToString();
    }

    private bool CouldStillBeNull()
    {
        // "null", or "null\n" whose newline is the value's trailing one.
        const string nullWithNewline = "null\n";
        if (_value.Length > nullWithNewline.Length) return false;
        for (int i = 0; i < _value.Length; i++)
            if (char.ToLowerInvariant(_value[i]) != nullWithNewline[i]) return false;
        return true;
    }
}
