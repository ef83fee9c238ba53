using System.Text;
using StepSharp.Inference;

namespace StepSharp.Tests.Inference;

public class StopStringMatcherTests
{
    /// <summary>Feeds pieces; returns everything emitted and whether/where it stopped.</summary>
    private static (string Emitted, bool Stopped, int PiecesFed) Run(string[] stops, IEnumerable<string> pieces)
    {
        var matcher = new StopStringMatcher(stops);
        var emitted = new StringBuilder();
        int fed = 0;
        foreach (string piece in pieces)
        {
            fed++;
            emitted.Append(matcher.Push(piece, out bool stopped));
            if (stopped) return (emitted.ToString(), true, fed);
        }
        emitted.Append(matcher.Flush());
        return (emitted.ToString(), false, fed);
    }

    [Fact]
    public void StopInsideOnePieceCutsBeforeIt()
    {
        var r = Run(["END"], ["hello END world"]);
        Assert.Equal(("hello ", true), (r.Emitted, r.Stopped));
    }

    [Fact]
    public void StopSpanningPiecesIsNeverShown()
    {
        var matcher = new StopStringMatcher(["<|end|>"]);
        Assert.Equal("abc", matcher.Push("abc<|e", out bool s1));
        Assert.False(s1);
        Assert.Equal("<|e", matcher.HeldBack);
        Assert.Equal("", matcher.Push("nd", out bool s2));
        Assert.False(s2);
        Assert.Equal("", matcher.Push("|>tail", out bool s3));
        Assert.True(s3);
        Assert.Equal("<|end|>", matcher.MatchedStopString);
        Assert.Equal("", matcher.Push("more", out bool s4));
        Assert.True(s4);
        Assert.Equal("", matcher.Flush("x"));
    }

    [Fact]
    public void FalseStartIsReleasedWhenItStopsMatching()
    {
        var matcher = new StopStringMatcher(["STOP"]);
        Assert.Equal("a", matcher.Push("aST", out _));
        Assert.Equal("STx", matcher.Push("xSTO", out bool stopped)); // "STx" cannot start "STOP"; "STO" still can
        Assert.False(stopped);
        Assert.Equal("STO", matcher.HeldBack);
        Assert.Equal("STOp", matcher.Push("p", out _)); // case matters
    }

    [Fact]
    public void OverlappingPrefixKeepsTheRightCharacters()
    {
        // "aaab" with stop "aab": the first 'a' is text, the stop starts at index 1.
        var r = Run(["aab"], ["a", "a", "a", "b", "c"]);
        Assert.Equal(("a", true, 4), r);
    }

    [Fact]
    public void EarliestStopWinsAmongSeveral()
    {
        Assert.Equal("x", Run(["world", "lo w"], ["x", "lo wor", "ld"]).Emitted);
        Assert.Equal("", Run(["b", "abc"], ["abc"]).Emitted);  // both complete: "abc" starts first
        Assert.Equal("a", Run(["b", "abc"], ["ab", "c"]).Emitted); // "b" completes before "abc" could
    }

    [Fact]
    public void FlushReleasesHeldTextAtTheEnd()
    {
        var r = Run(["</answer>"], ["The answer is 42 </ans"]);
        Assert.Equal(("The answer is 42 </ans", false), (r.Emitted, r.Stopped));
    }

    [Fact]
    public void EveryChunkingOfAStreamGivesTheSameOutput()
    {
        const string text = "Paris is the capital.\nUser: next question\nUser: again";
        string[] stops = ["\nUser:", "capital!"];
        string expected = "Paris is the capital.";
        var random = new Random(3);
        for (int trial = 0; trial < 200; trial++)
        {
            var pieces = new List<string>();
            for (int i = 0; i < text.Length;)
            {
                int n = Math.Min(text.Length - i, random.Next(1, 6));
                pieces.Add(text.Substring(i, n));
                i += n;
            }
            var r = Run(stops, pieces);
            Assert.True(r.Stopped);
            Assert.Equal(expected, r.Emitted);
        }
    }

    [Fact]
    public void NoStopStringsPassesEverythingThrough()
    {
        var matcher = new StopStringMatcher([]);
        Assert.Equal("abc", matcher.Push("abc", out bool stopped));
        Assert.False(stopped);
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void EmptyStopStringIsRejected()
    {
        Assert.Throws<ArgumentException>(() => new StopStringMatcher(["ok", ""]));
    }
}
