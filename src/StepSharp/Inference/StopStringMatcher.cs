using System.Text;

namespace StepSharp.Inference;

/// <summary>
/// Finds stop strings in streamed text that may span token boundaries. Text that could still turn out to be
/// the start of a stop string is held back, so the stop text itself is never emitted.
/// </summary>
public sealed class StopStringMatcher
{
    private readonly string[] _stops;
    private readonly StringBuilder _pending = new();

    public StopStringMatcher(IReadOnlyList<string> stopStrings)
    {
        var stops = new List<string>();
        foreach (string s in stopStrings)
            if (!string.IsNullOrEmpty(s)) stops.Add(s);
        _stops = [.. stops];
    }

    /// <summary>True once a stop string was found; nothing more is emitted.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a piece of text; returns what can be emitted now and whether a stop string completed.</summary>
    public string Push(string piece, out bool stopped)
    {
        stopped = Stopped;
        if (Stopped) return "";
        if (_stops.Length == 0) return piece;
        _pending.Append(piece);
        string text = _pending.ToString();

        int cut = -1;
        foreach (string stop in _stops)
        {
            int i = text.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (cut < 0 || i < cut)) cut = i;
        }
        if (cut >= 0)
        {
            Stopped = stopped = true;
            _pending.Clear();
            return text[..cut];
        }

        // Hold back the longest suffix that is a prefix of some stop string.
        int hold = 0;
        foreach (string stop in _stops)
            for (int len = Math.Min(stop.Length - 1, text.Length); len > hold; len--)
                if (text.AsSpan(text.Length - len).SequenceEqual(stop.AsSpan(0, len))) { hold = len; break; }
        _pending.Clear();
        _pending.Append(text, text.Length - hold, hold);
        return text[..^hold];
    }

    /// <summary>End of generation: <paramref name="tail"/> (e.g. the detokenizer's last bytes) is added, and everything held back is released.</summary>
    public string Flush(string tail = "")
    {
        string text = Push(tail, out _);
        if (Stopped) return text;
        string rest = _pending.ToString();
        _pending.Clear();
        return text + rest;
    }
}
