using System.Security.Cryptography;
using System.Text;

namespace StepSharp.Chat.Parsing;

/// <summary>
/// Streaming parser of Step 3.5 Flash completions (spec §6.2 reasoning split, §6.3 tool calls; the exact
/// contract, including the repairs of malformed markup, is the rule list in testdata/step35-parsing/README.md).
///
/// It is a state machine over a small pending buffer: each state consumes the text it is sure about and
/// holds back only what could still change meaning — a suffix that may be the start of a tag, the one
/// newline that belongs to a following <c>&lt;/think&gt;</c> or call, or a <c>&lt;tool_call&gt;</c> block whose
/// function tag has not been seen yet (it is prose if none comes). Nesting is "block first" like vLLM: a
/// block ends at the first <c>&lt;/tool_call&gt;</c>, its function body at the first <c>&lt;/function&gt;</c>, a value at
/// the first of <c>&lt;/parameter&gt;</c>, <c>&lt;parameter=</c> or those two.
/// </summary>
public sealed partial class Step35OutputParser : IModelOutputParser
{
    private const string ThinkOpen = "<think>";
    private const string ThinkClose = "</think>";
    private const string ToolCallOpen = "<tool_call>";
    private const string ToolCallClose = "</tool_call>";
    private const string FunctionClose = "</function>";
    private const string ParameterOpen = "<parameter=";
    private const string ParameterClose = "</parameter>";
    private const string DoubledParameterPrefix = "parameter=";

    private static readonly string[] ReasoningEnds = [ThinkClose, ToolCallOpen];
    private static readonly string[] ContentTagsWithTools = [ToolCallOpen, Step35FunctionTag.Open];
    private static readonly string[] ContentTagsWithoutTools = [ToolCallOpen];
    private static readonly string[] BlockTags = [ToolCallClose, Step35FunctionTag.Open];
    private static readonly string[] BodyTags = [ParameterOpen, FunctionClose, ToolCallClose];
    private static readonly string[] ValueEnds = [ParameterClose, ParameterOpen, FunctionClose, ToolCallClose];

    private enum State { Start, Reasoning, Content, Block, FunctionBody, ParameterName, ParameterValue, AfterBareFunction }

    private readonly ToolSchemaSet _tools;
    private readonly bool _thinkingOpenedInPrompt;
    private readonly Func<string> _newToolCallId;
    private readonly StringBuilder _reasoning = new();
    private readonly StringBuilder _content = new();
    private readonly StringBuilder _contentWhitespace = new(); // content held until something non-blank arrives
    private readonly List<StreamingToolCall> _calls = [];
    private List<ParserEvent> _events = [];

    private State _state = State.Start;
    private string _pending = "";
    private int _at;                      // start of unconsumed text in _pending
    private bool _dropLeadingNewline;     // after </think> or a call: one '\n' belongs to the markup
    private bool _blockHasCall;           // inside <tool_call>: a function tag was already accepted
    private bool _bare;                   // current call is a bare <function=…> outside <tool_call>
    private bool _valueStarted;           // current value's leading newline was already handled
    private char _carriedHighSurrogate;
    private bool _finished;

    public Step35OutputParser(ToolSchemaSet tools, bool thinkingOpenedInPrompt = true, Func<string>? newToolCallId = null)
    {
        _tools = tools;
        _thinkingOpenedInPrompt = thinkingOpenedInPrompt;
        _newToolCallId = newToolCallId ?? NewOpenAiToolCallId;
    }

    /// <summary><c>call_</c> + 24 hex digits, the shape OpenAI-compatible servers use.</summary>
    public static string NewOpenAiToolCallId() => "call_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    public ParsedOutput Result
    {
        get
        {
            var calls = new ParsedToolCall[_calls.Count];
            for (int i = 0; i < calls.Length; i++)
                calls[i] = new ParsedToolCall(_calls[i].Id, _calls[i].Name, _calls[i].ArgumentsJson());
            return new ParsedOutput(_reasoning.Length == 0 ? null : _reasoning.ToString(),
                                    _content.Length == 0 ? null : _content.ToString(), calls);
        }
    }

    public ParserDelta Push(string chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (_finished) throw new InvalidOperationException("Push after Finish: a parser instance parses one generation.");
        if (chunk.Length == 0) return ParserDelta.Empty;
        // A surrogate pair split between chunks is rejoined so no delta ends in half a character.
        string text = _carriedHighSurrogate != '\0' ? _carriedHighSurrogate + chunk : chunk;
        _carriedHighSurrogate = '\0';
        if (char.IsHighSurrogate(text[^1]))
        {
            _carriedHighSurrogate = text[^1];
            text = text[..^1];
        }
        _pending = _at == _pending.Length ? text : string.Concat(_pending.AsSpan(_at), text);
        _at = 0;
        Run(final: false);
        return TakeEvents();
    }

    public ParserDelta Finish()
    {
        if (_finished) return ParserDelta.Empty;
        if (_carriedHighSurrogate != '\0')
        {
            _pending = string.Concat(_pending.AsSpan(_at), _carriedHighSurrogate.ToString());
            _at = 0;
            _carriedHighSurrogate = '\0';
        }
        Run(final: true);
        foreach (var call in _calls) call.Close();
        _finished = true;
        _pending = "";
        _at = 0;
        return TakeEvents();
    }

    private ReadOnlySpan<char> Rest => _pending.AsSpan(_at);

    private void Run(bool final)
    {
        while (Step(final)) { }
    }

    /// <summary>Advances by one decision; false when the state needs more text (or, when final, is done).</summary>
    private bool Step(bool final) => _state switch
    {
        State.Start => StepStart(final),
        State.Reasoning => StepReasoning(final),
        State.Content => StepContent(final),
        State.Block => StepBlock(final),
        State.FunctionBody => StepFunctionBody(final),
        State.ParameterName => StepParameterName(final),
        State.ParameterValue => StepParameterValue(final),
        State.AfterBareFunction => StepAfterBareFunction(final),
        _ => false,
    };

    // README rule 1.1: a re-opened "<think>" (plus one newline) at the very start is dropped. Without a think
    // block opened by the prompt, output that does not start with "<think>" is all content.
    private bool StepStart(bool final)
    {
        ReadOnlySpan<char> r = Rest;
        if (!final && r.Length <= ThinkOpen.Length && ThinkOpen.AsSpan().StartsWith(r)) return false;
        if (r.StartsWith(ThinkOpen))
        {
            _at += ThinkOpen.Length;
            _dropLeadingNewline = true;
            _state = State.Reasoning;
            return true;
        }
        _state = _thinkingOpenedInPrompt ? State.Reasoning : State.Content;
        return true;
    }

    // README rule 1.2/1.3: reasoning ends at the first </think> or <tool_call>; one trailing '\n' is dropped.
    private bool StepReasoning(bool final)
    {
        if (!TryDropLeadingNewline(final)) return false;
        ReadOnlySpan<char> r = Rest;
        int end = TagScan.IndexOfEarliest(r, ReasoningEnds, out int which);
        if (end >= 0)
        {
            EmitReasoning(WithoutTrailingNewline(r[..end]));
            if (which == 0)
            {
                _at += end + ThinkClose.Length;
                _dropLeadingNewline = true;
            }
            else
            {
                _at += end; // the rest starts at <tool_call>
            }
            _state = State.Content;
            return true;
        }
        if (final)
        {
            EmitReasoning(WithoutTrailingNewline(r));
            _at = _pending.Length;
            return false;
        }
        int safe = HoldNewline(r, r.Length - TagScan.PartialSuffix(r, ReasoningEnds));
        EmitReasoning(r[..safe]);
        _at += safe;
        return false;
    }

    // README rules 2 and 5: content until a <tool_call> block or a declared bare <function=…>.
    private bool StepContent(bool final)
    {
        if (!TryDropLeadingNewline(final)) return false;
        ReadOnlySpan<char> r = Rest;
        string[] tags = _tools.Count > 0 ? ContentTagsWithTools : ContentTagsWithoutTools;
        int scan = 0;
        while (true)
        {
            int i = TagScan.IndexOfEarliest(r[scan..], tags, out int which);
            if (i < 0) break;
            i += scan;
            if (which == 0)
            {
                // Undecided block: the newline before it stays pending, it belongs to the block if it is a call.
                int before = HoldNewline(r, i);
                EmitContent(r[..before]);
                _at += before;
                _blockHasCall = false;
                _state = State.Block;
                return true;
            }
            var status = Step35FunctionTag.Read(r, i, requireDeclared: true, final, _tools, out string name, out int length);
            if (status == Step35FunctionTag.Status.Reject) { scan = i + 1; continue; }
            if (status == Step35FunctionTag.Status.NeedMore)
            {
                int safeBefore = HoldNewline(r, i);
                EmitContent(r[..safeBefore]);
                _at += safeBefore;
                return false;
            }
            EmitContent(WithoutTrailingNewline(r[..i]));
            _at += i + length;
            BeginCall(name, bare: true);
            return true;
        }
        if (final)
        {
            EmitContent(r);
            _at = _pending.Length;
            return false;
        }
        int safe = HoldNewline(r, r.Length - TagScan.PartialSuffix(r, tags));
        EmitContent(r[..safe]);
        _at += safe;
        return false;
    }

    // Inside <tool_call>: find the function tag (then it is a call) or the block end. Before the first call is
    // found nothing is consumed, because a block without a usable function tag is content after all.
    private bool StepBlock(bool final)
    {
        ReadOnlySpan<char> r = Rest;
        int scan = _blockHasCall ? 0 : r.IndexOf(ToolCallOpen, StringComparison.Ordinal) + ToolCallOpen.Length;
        while (true)
        {
            int i = TagScan.IndexOfEarliest(r[scan..], BlockTags, out int which);
            if (i < 0) break;
            i += scan;
            if (which == 0)
            {
                if (_blockHasCall) EndOfCallMarkup(i + ToolCallClose.Length);
                else
                {
                    EmitContent(r[..(i + ToolCallClose.Length)]);
                    _at += i + ToolCallClose.Length;
                    _state = State.Content;
                }
                return true;
            }
            var status = Step35FunctionTag.Read(r, i, requireDeclared: false, final, _tools, out string name, out int length);
            if (status == Step35FunctionTag.Status.Reject) { scan = i + 1; continue; }
            if (status == Step35FunctionTag.Status.NeedMore) return false;
            _at += i + length; // the newline before the block, the tag and any junk before the function belong to the call
            _blockHasCall = true;
            BeginCall(name, bare: false);
            return true;
        }
        if (final)
        {
            if (!_blockHasCall) EmitContent(r);
            _at = _pending.Length;
            return false;
        }
        if (_blockHasCall) _at += r.Length - TagScan.PartialSuffix(r, BlockTags); // junk between calls is dropped
        return false;
    }

    // Between parameters: the next <parameter=, or the end of the function body or of the block.
    private bool StepFunctionBody(bool final)
    {
        ReadOnlySpan<char> r = Rest;
        int i = TagScan.IndexOfEarliest(r, BodyTags, out int which);
        if (i < 0)
        {
            if (final) { _at = _pending.Length; return false; }
            _at += r.Length - TagScan.PartialSuffix(r, BodyTags);
            return false;
        }
        switch (which)
        {
            case 0:
                _at += i + ParameterOpen.Length;
                _state = State.ParameterName;
                return true;
            case 1:
                CurrentCall.Close();
                _at += i + FunctionClose.Length;
                _state = _bare ? State.AfterBareFunction : State.Block;
                return true;
            default:
                EndOfCallMarkup(i + ToolCallClose.Length);
                return true;
        }
    }

    // "<parameter=KEY>"; repaired: "<parameter=KEY\n" (name ends at the newline) and "<parameter=parameter=KEY".
    private bool StepParameterName(bool final)
    {
        ReadOnlySpan<char> r = Rest;
        if (!final && r.Length < DoubledParameterPrefix.Length && DoubledParameterPrefix.AsSpan().StartsWith(r)) return false;
        int skip = r.StartsWith(DoubledParameterPrefix) ? DoubledParameterPrefix.Length : 0;
        int end = r[skip..].IndexOfAny('>', '\n');
        if (end < 0)
        {
            if (final) { _at = _pending.Length; _state = State.FunctionBody; }
            return false; // cut inside the name: the parameter is dropped at the end
        }
        CurrentCall.BeginParameter(r.Slice(skip, end).Trim().ToString());
        _at += skip + end + 1;
        _valueStarted = false;
        _state = State.ParameterValue;
        return true;
    }

    // README rule 3.2/3.3: the value ends at the first </parameter>, <parameter=, </function> or </tool_call>;
    // one leading and one trailing newline are dropped, the rest is verbatim.
    private bool StepParameterValue(bool final)
    {
        ReadOnlySpan<char> r = Rest;
        if (!_valueStarted)
        {
            if (r.Length == 0 && !final) return false;
            if (r.Length > 0 && r[0] == '\n') { _at++; r = Rest; }
            _valueStarted = true;
        }
        int i = TagScan.IndexOfEarliest(r, ValueEnds, out int which);
        if (i >= 0)
        {
            CurrentCall.AppendValue(r[..i]);
            CurrentCall.EndParameter();
            _at += which == 0 ? i + ParameterClose.Length : i; // other terminators are read by the body state
            _state = State.FunctionBody;
            return true;
        }
        if (final)
        {
            CurrentCall.AppendValue(r);
            CurrentCall.EndParameter();
            _at = _pending.Length;
            _state = State.FunctionBody;
            return false;
        }
        int safe = r.Length - TagScan.PartialSuffix(r, ValueEnds);
        CurrentCall.AppendValue(r[..safe]);
        _at += safe;
        return false;
    }

    // README rule 2.2: a "</tool_call>" after a bare function (after optional whitespace) is consumed.
    private bool StepAfterBareFunction(bool final)
    {
        ReadOnlySpan<char> r = Rest;
        ReadOnlySpan<char> afterSpace = r.TrimStart();
        if (afterSpace.StartsWith(ToolCallClose))
        {
            EndOfCallMarkup(r.Length - afterSpace.Length + ToolCallClose.Length);
            return true;
        }
        if (!final && (afterSpace.Length == 0 || ToolCallClose.AsSpan().StartsWith(afterSpace))) return false;
        _dropLeadingNewline = true;
        _state = State.Content;
        return true;
    }

    /// <summary>Drops the one newline owed to preceding markup; false when that cannot be decided yet.</summary>
    private bool TryDropLeadingNewline(bool final)
    {
        if (!_dropLeadingNewline) return true;
        if (_at == _pending.Length && !final) return false;
        if (_at < _pending.Length && _pending[_at] == '\n') _at++;
        _dropLeadingNewline = false;
        return true;
    }

    /// <summary>Moves <paramref name="end"/> back over one newline that may still belong to following markup.</summary>
    private static int HoldNewline(ReadOnlySpan<char> text, int end) => end > 0 && text[end - 1] == '\n' ? end - 1 : end;

    private static ReadOnlySpan<char> WithoutTrailingNewline(ReadOnlySpan<char> text) =>
        text.Length > 0 && text[^1] == '\n' ? text[..^1] : text;
}
