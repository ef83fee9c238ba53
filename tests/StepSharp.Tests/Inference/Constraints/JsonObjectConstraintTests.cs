using System.Text;
using System.Text.Json;
using StepSharp.Inference.Constraints;

namespace StepSharp.Tests.Inference.Constraints;

public class JsonObjectConstraintTests
{
    public static TheoryData<string> ValidObjects => new()
    {
        "{}",
        " \n{ }",
        "{\"a\":1}",
        "{\"a\": -1.5e+3, \"b\": [true, false, null, \"x\\\"y\\u00e9\"], \"c\": {\"d\": []}}",
        "{\"ünï\": \"codé ✓\", \"n\": [[[]]], \"e\": 0}",
    };

    [Theory]
    [MemberData(nameof(ValidObjects))]
    public void EveryChunkingOfAValidObjectIsAllowedAndCompletesAtTheEnd(string json)
    {
        Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(json).RootElement.ValueKind); // the oracle agrees it is one object
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        foreach (int chunk in new[] { 1, 2, 3, 7, bytes.Length })
        {
            var c = new JsonObjectConstraint();
            for (int i = 0; i < bytes.Length; i += chunk)
            {
                var piece = bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i));
                Assert.False(c.IsComplete, $"complete before byte {i} of {json}");
                Assert.False(c.Allows(piece, endsGeneration: true) && !c.IsComplete && piece.Length == 0);
                Assert.True(c.Allows(piece, false), $"refused '{Encoding.UTF8.GetString(piece)}' at byte {i} of {json} (chunk {chunk})");
                c.Accept(piece);
            }
            Assert.True(c.IsComplete, json);
            Assert.True(c.Allows([], endsGeneration: true));
            Assert.False(c.Allows(" "u8, false)); // nothing may follow the object
        }
    }

    [Theory]
    [InlineData("", "[")]               // the answer must be an object
    [InlineData("", "\"a\"")]
    [InlineData("{", ",")]
    [InlineData("{", "a")]              // keys are strings
    [InlineData("{\"a\"", "1")]         // a colon first
    [InlineData("{\"a\":", "}")]        // a value first
    [InlineData("{\"a\":tr", "x")]      // literals letter by letter
    [InlineData("{\"a\":1", "]")]       // brackets must match
    [InlineData("{\"a\":1,", "}")]      // no trailing comma
    [InlineData("{\"a\":\"", "\n")]    // raw control characters are not allowed in strings
    [InlineData("{\"a\":\"\\", "q")]   // unknown escape
    [InlineData("{\"a\":\"\\u12", "g")]
    [InlineData("{\"a\":-", " ")]       // a sign needs a digit
    [InlineData("{\"a\":0", "1")]       // no leading zeros
    [InlineData("{\"a\":1.", "}")]      // a fraction needs digits
    [InlineData("{\"a\":1e", ",")]      // so does an exponent
    [InlineData("{", "     ")]           // whitespace runs are capped
    public void InvalidContinuationsAreRefused(string prefix, string next)
    {
        var c = new JsonObjectConstraint();
        byte[] p = Encoding.UTF8.GetBytes(prefix);
        Assert.True(c.Allows(p, false) || p.Length == 0);
        if (p.Length > 0) c.Accept(p);
        Assert.False(c.Allows(Encoding.UTF8.GetBytes(next), false), $"'{next}' after '{prefix}' should be refused");
        Assert.False(c.Allows([], endsGeneration: true)); // and the object is not finished
    }

    [Fact]
    public void ReasoningIsFreeAndTheAnswerAfterTheEndTagIsConstrained()
    {
        var c = new AfterReasoningConstraint(new JsonObjectConstraint());
        Assert.True(c.Allows("free [text"u8, false));
        c.Accept("free [text"u8);
        Assert.False(c.Allows([], endsGeneration: true));   // the reasoning cannot end the generation
        Assert.True(c.Allows("</thi"u8, false));
        c.Accept("</thi"u8);
        Assert.False(c.Allows("nk>\nhello"u8, false));      // the tag completes and the answer is not JSON
        Assert.True(c.Allows("nk>\n"u8, false));
        c.Accept("nk>\n"u8);
        Assert.False(c.Allows("x"u8, false));
        Assert.True(c.Allows(" {\"ok\""u8, false));
        c.Accept(" {\"ok\""u8);
        c.Accept(": true}"u8);
        Assert.True(c.IsComplete);
    }

    [Fact]
    public void AForcedPrefixMustComeFirstThenAnythingGoes()
    {
        var c = new ForcedPrefixConstraint("<tool_call>\n<function=get>");
        Assert.False(c.Allows("Sure"u8, false));
        Assert.False(c.Allows([], endsGeneration: true));
        Assert.True(c.Allows("<tool"u8, false));
        c.Accept("<tool"u8);
        Assert.False(c.Allows("_cell"u8, false));
        Assert.True(c.Allows("_call>\n<function=get>\n<parameter=x>"u8, false));
        c.Accept("_call>\n<function=get>\n<parameter=x>"u8);
        Assert.True(c.Allows("anything"u8, false));
        Assert.True(c.Allows([], endsGeneration: true));
        Assert.False(c.IsComplete);
    }
}
