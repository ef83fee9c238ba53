namespace StepSharp.Chat.Parsing;

/// <summary>What a <see cref="ParserEvent"/> carries.</summary>
public enum ParserEventKind
{
    /// <summary>More reasoning text (<see cref="ParserEvent.Text"/>).</summary>
    Reasoning,
    /// <summary>More content text (<see cref="ParserEvent.Text"/>).</summary>
    Content,
    /// <summary>A tool call began: <see cref="ParserEvent.ToolCallIndex"/>, <see cref="ParserEvent.ToolCallId"/> and <see cref="ParserEvent.ToolCallName"/> are set.</summary>
    ToolCallStart,
    /// <summary>A fragment of the tool call's arguments JSON (<see cref="ParserEvent.Text"/>); fragments concatenate to the final string.</summary>
    ToolCallArguments,
}

/// <summary>
/// One tool call's part of a delta, shaped like an OpenAI streaming <c>delta.tool_calls[i]</c>: id and name are set
/// in the delta where the call starts, <see cref="Arguments"/> is the next fragment of the arguments JSON.
/// </summary>
public sealed record ToolCallDelta(int Index, string? Id, string? Name, string Arguments);

/// <summary>One piece of parser output, in output order.</summary>
public readonly record struct ParserEvent(ParserEventKind Kind, string Text, int ToolCallIndex = -1, string? ToolCallId = null, string? ToolCallName = null);

/// <summary>
/// The output that became certain during one <see cref="IModelOutputParser.Push"/> or <see cref="IModelOutputParser.Finish"/>.
/// <see cref="Events"/> keeps the order (content before, between and after calls); the convenience properties
/// give the per-field view an OpenAI streaming chunk needs.
/// </summary>
public sealed class ParserDelta
{
    public static readonly ParserDelta Empty = new([]);

    public ParserDelta(IReadOnlyList<ParserEvent> events) => Events = events;

    public IReadOnlyList<ParserEvent> Events { get; }

    public bool IsEmpty => Events.Count == 0;

    /// <summary>All reasoning text of this delta, or null when there is none.</summary>
    public string? Reasoning => Concat(ParserEventKind.Reasoning);

    /// <summary>All content text of this delta, or null when there is none.</summary>
    public string? Content => Concat(ParserEventKind.Content);

    /// <summary>Tool-call starts and argument fragments of this delta, merged per call index in order of first appearance.</summary>
    public IReadOnlyList<ToolCallDelta> ToolCalls
    {
        get
        {
            var calls = new List<ToolCallDelta>();
            foreach (var e in Events)
            {
                if (e.Kind is not (ParserEventKind.ToolCallStart or ParserEventKind.ToolCallArguments)) continue;
                int at = calls.FindIndex(c => c.Index == e.ToolCallIndex);
                if (at < 0)
                {
                    calls.Add(new ToolCallDelta(e.ToolCallIndex, e.ToolCallId, e.ToolCallName, e.Text));
                    continue;
                }
                var merged = calls[at];
                calls[at] = merged with
                {
                    Id = merged.Id ?? e.ToolCallId,
                    Name = merged.Name ?? e.ToolCallName,
                    Arguments = merged.Arguments + e.Text,
                };
            }
            return calls;
        }
    }

    private string? Concat(ParserEventKind kind)
    {
        string? text = null;
        foreach (var e in Events)
            if (e.Kind == kind) text = text is null ? e.Text : text + e.Text;
        return text;
    }
}
