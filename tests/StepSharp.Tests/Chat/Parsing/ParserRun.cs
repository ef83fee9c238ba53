using System.Text;
using StepSharp.Chat.Parsing;

namespace StepSharp.Tests.Chat.Parsing;

/// <summary>Feeds a parser a text in given pieces and records every delta, so tests can check the stream against the result.</summary>
internal sealed class ParserRun
{
    public readonly StringBuilder Reasoning = new();
    public readonly StringBuilder Content = new();
    public readonly List<ParserEvent> Events = [];
    public readonly List<(string Id, string Name)> Starts = [];
    public readonly List<StringBuilder> Arguments = [];
    public ParsedOutput Result = null!;

    public static ParserRun Feed(IModelOutputParser parser, IEnumerable<string> pieces)
    {
        var run = new ParserRun();
        foreach (string piece in pieces) run.Record(parser.Push(piece));
        run.Record(parser.Finish());
        run.Result = parser.Result;
        return run;
    }

    private void Record(ParserDelta delta)
    {
        foreach (var e in delta.Events)
        {
            Events.Add(e);
            switch (e.Kind)
            {
                case ParserEventKind.Reasoning: Reasoning.Append(e.Text); break;
                case ParserEventKind.Content: Content.Append(e.Text); break;
                case ParserEventKind.ToolCallStart:
                    Assert.Equal(Starts.Count, e.ToolCallIndex);
                    Assert.False(string.IsNullOrEmpty(e.ToolCallId));
                    Assert.False(string.IsNullOrEmpty(e.ToolCallName));
                    Starts.Add((e.ToolCallId!, e.ToolCallName!));
                    Arguments.Add(new StringBuilder());
                    break;
                case ParserEventKind.ToolCallArguments:
                    Assert.InRange(e.ToolCallIndex, 0, Starts.Count - 1);
                    Arguments[e.ToolCallIndex].Append(e.Text);
                    break;
            }
        }
    }

    /// <summary>The stream must add up to the result exactly (null fields = nothing streamed).</summary>
    public void AssertStreamMatchesResult()
    {
        Assert.Equal(Result.ReasoningContent ?? "", Reasoning.ToString());
        Assert.Equal(Result.Content ?? "", Content.ToString());
        Assert.Equal(Result.ToolCalls.Count, Starts.Count);
        for (int i = 0; i < Starts.Count; i++)
        {
            Assert.Equal(Result.ToolCalls[i].Id, Starts[i].Id);
            Assert.Equal(Result.ToolCalls[i].Name, Starts[i].Name);
            Assert.Equal(Result.ToolCalls[i].ArgumentsJson, Arguments[i].ToString());
        }
    }

    // ---- chunkings ----

    public static IEnumerable<string> FixedSize(string text, int size)
    {
        for (int i = 0; i < text.Length; i += size) yield return text.Substring(i, Math.Min(size, text.Length - i));
    }

    public static IEnumerable<string> RandomSplits(string text, int seed)
    {
        var random = new Random(seed);
        int i = 0;
        while (i < text.Length)
        {
            int n = Math.Min(text.Length - i, random.Next(1, 13));
            yield return text.Substring(i, n);
            i += n;
        }
    }

    /// <summary>
    /// Pieces shaped like detokenized tokens: each tag-like <c>&lt;…&gt;</c> whole (the special tokens are single
    /// tokens, spec §5), runs of letters/digits, single spaces/newlines and punctuation.
    /// </summary>
    public static IEnumerable<string> TokenLike(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            int end = i + 1;
            if (text[i] == '<')
            {
                int close = text.IndexOf('>', i);
                int nextOpen = text.IndexOf('<', i + 1);
                if (close > 0 && (nextOpen < 0 || close < nextOpen) && close - i < 40) end = close + 1;
            }
            else if (char.IsLetterOrDigit(text[i]))
            {
                while (end < text.Length && char.IsLetterOrDigit(text[end])) end++;
            }
            yield return text[i..end];
            i = end;
        }
    }
}
