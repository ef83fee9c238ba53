using System.Text;

namespace StepSharp.Inference.Constraints;

/// <summary>
/// Leaves a thinking model's reasoning free and applies <paramref name="inner"/> to what follows <c>&lt;/think&gt;</c>
/// (Step 3.5's prompt opens the think block, spec §6.2), so a JSON answer or a required tool call is enforced on the
/// answer, not on the reasoning. Whitespace right after <c>&lt;/think&gt;</c> is let through.
/// </summary>
public sealed class AfterReasoningConstraint(IOutputConstraint inner, string endTag = "</think>") : IOutputConstraint
{
    private readonly byte[] _tag = Encoding.UTF8.GetBytes(endTag);
    private int _matched;          // bytes of the end tag seen so far
    private bool _answering;       // the end tag has been generated
    private bool _started;         // the answer has begun (a little whitespace before it is let through)
    private int _leading;          // whitespace bytes let through before the answer
    private const int MaxLeadingWhitespace = 2;

    public bool IsComplete => _answering && inner.IsComplete;

    public bool Allows(ReadOnlySpan<byte> tokenBytes, bool endsGeneration)
    {
        if (_answering) return AllowsAnswer(tokenBytes, endsGeneration, _started);
        if (endsGeneration) return false; // the reasoning may not end the generation: the answer has to follow
        int at = EndOfTag(tokenBytes, _matched);
        return at < 0 || AllowsAnswer(tokenBytes[at..], false, started: false);
    }

    public void Accept(ReadOnlySpan<byte> tokenBytes)
    {
        if (!_answering)
        {
            int at = EndOfTag(tokenBytes, _matched);
            if (at < 0) { _matched = Matched(tokenBytes, _matched); return; }
            _answering = true;
            tokenBytes = tokenBytes[at..];
        }
        if (!_started)
        {
            var trimmed = TrimLeadingSpace(tokenBytes);
            _leading += tokenBytes.Length - trimmed.Length;
            tokenBytes = trimmed;
        }
        if (tokenBytes.IsEmpty) return;
        _started = true;
        inner.Accept(tokenBytes);
    }

    private bool AllowsAnswer(ReadOnlySpan<byte> bytes, bool endsGeneration, bool started)
    {
        if (!started)
        {
            var trimmed = TrimLeadingSpace(bytes);
            if (_leading + bytes.Length - trimmed.Length > MaxLeadingWhitespace) return false;
            bytes = trimmed;
        }
        if (bytes.IsEmpty) return !endsGeneration || inner.Allows(bytes, true);
        return inner.Allows(bytes, endsGeneration);
    }

    /// <summary>Index just past the end tag if it completes within these bytes (given a partial match before), else −1.</summary>
    private int EndOfTag(ReadOnlySpan<byte> bytes, int matched)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            matched = Step(matched, bytes[i]);
            if (matched == _tag.Length) return i + 1;
        }
        return -1;
    }

    private int Matched(ReadOnlySpan<byte> bytes, int matched)
    {
        foreach (byte b in bytes) matched = Step(matched, b);
        return matched;
    }

    // The tag has no repeated prefix, so a mismatch restarts the match at this byte.
    private int Step(int matched, byte b) => b == _tag[matched] ? matched + 1 : b == _tag[0] ? 1 : 0;

    private static ReadOnlySpan<byte> TrimLeadingSpace(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length && bytes[i] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') i++;
        return bytes[i..];
    }
}
