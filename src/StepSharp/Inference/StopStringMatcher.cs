namespace StepSharp.Inference;

/// <summary>
/// Watches decoded text for stop strings (OpenAI <c>stop</c>). Fed the text piece by piece, it returns what is
/// safe to show now: text that cannot be part of a stop string. A suffix that could still grow into a stop
/// string is held back, so a stop string split across pieces is never shown, not even in part. Once a stop
/// string completes, the text before it is returned and the matcher stays stopped.
/// </summary>
public sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private string _held = "";

    public StopStringMatcher(IReadOnlyList<string> stopStrings)
    {
        ArgumentNullException.ThrowIfNull(stopStrings);
        _stops = new string[stopStrings.Count];
        for (int i = 0; i < _stops.Length; i++)
        {
            if (string.IsNullOrEmpty(stopStrings[i]))
                throw new ArgumentException($"stop string {i} is empty; an empty stop string would stop before the first character", nameof(stopStrings));
            _stops[i] = stopStrings[i];
        }
    }

    /// <summary>A stop string has completed; further input is ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The stop string that completed, or null.</summary>
    public string? MatchedStopString { get; private set; }

    /// <summary>Text held back because it may be the start of a stop string.</summary>
    public string HeldBack => _held;

    /// <summary>Adds a decoded piece; returns the text that is now safe to emit.</summary>
    public string Push(string piece, out bool stopped)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (Stopped || _stops.Length == 0)
        {
            stopped = Stopped;
            return Stopped ? "" : piece;
        }
        string text = _held.Length == 0 ? piece : _held + piece;
        int end = IndexOfFirstStop(text);
        if (end >= 0)
        {
            _held = "";
            stopped = true;
            return text[..end];
        }
        int hold = LongestPartialStop(text);
        _held = text[(text.Length - hold)..];
        stopped = false;
        return hold == 0 ? text : text[..^hold];
    }

    /// <summary>
    /// End of generation: adds the last <paramref name="tail"/> and releases the held text (it can no longer
    /// become a stop string). Returns what to emit.
    /// </summary>
    public string Flush(string tail = "")
    {
        ArgumentNullException.ThrowIfNull(tail);
        if (Stopped) return "";
        string text = _held + tail;
        _held = "";
        int end = _stops.Length == 0 ? -1 : IndexOfFirstStop(text);
        return end >= 0 ? text[..end] : text;
    }

    /// <summary>Forgets held text and the stopped state, for a new generation.</summary>
    public void Reset()
    {
        _held = "";
        Stopped = false;
        MatchedStopString = null;
    }

    /// <summary>Start of the earliest complete stop string (the longest one when several start there), or -1; marks the matcher stopped.</summary>
    private int IndexOfFirstStop(string text)
    {
        int best = -1;
        foreach (string stop in _stops)
        {
            int i = text.IndexOf(stop, StringComparison.Ordinal);
            if (i < 0) continue;
            if (best < 0 || i < best || (i == best && stop.Length > MatchedStopString!.Length))
            {
                best = i;
                MatchedStopString = stop;
            }
        }
        if (best >= 0) Stopped = true;
        return best;
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of a stop string.</summary>
    private int LongestPartialStop(string text)
    {
        int longest = 0;
        foreach (string stop in _stops)
        {
            for (int len = Math.Min(stop.Length - 1, text.Length); len > longest; len--)
            {
                if (text.AsSpan(text.Length - len).SequenceEqual(stop.AsSpan(0, len))) { longest = len; break; }
            }
        }
        return longest;
    }
}
