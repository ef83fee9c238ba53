using StepSharp.Inference;

namespace StepSharp.Tests.Inference;

public class StopStringMatcherTests
{
    [Theory]
    [InlineData(new[] { "Hello wor", "ld<|e", "nd|> more" }, "Hello world", true)]
    [InlineData(new[] { "a<", "|", "e", "x" }, "a<|ex", false)]        // a false start is released at the end
    [InlineData(new[] { "STOPnow" }, "", true)]
    [InlineData(new[] { "x", "ST", "OP", "after" }, "x", true)]
    public void StopTextIsNeverEmittedEvenAcrossPieces(string[] pieces, string expected, bool stops)
    {
        var m = new StopStringMatcher(["<|end|>", "STOP"]);
        var emitted = new System.Text.StringBuilder();
        bool stopped = false;
        foreach (string p in pieces)
        {
            emitted.Append(m.Push(p, out stopped));
            if (stopped) break;
        }
        if (!stopped) emitted.Append(m.Flush());
        Assert.Equal(expected, emitted.ToString());
        Assert.Equal(stops, stopped);
    }

    [Fact]
    public void HeldBackTextIsOnlyAPossibleStopPrefix()
    {
        var m = new StopStringMatcher(["\n\nUser:"]);
        Assert.Equal("answer", m.Push("answer\n", out _));
        Assert.Equal("\nmore", m.Push("more", out _)); // "\n" + "more" cannot start "\n\nUser:" any more... except the held "\n"
    }
}
