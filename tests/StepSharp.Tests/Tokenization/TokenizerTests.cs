using StepSharp.Tokenization;

namespace StepSharp.Tests.Tokenization;

/// <summary>The algorithms on tiny vocabularies whose correct output can be worked out by hand.</summary>
public class TokenizerTests
{
    /// <summary>A byte-level vocabulary: the 256 byte characters (ids 0..255), then the given extra tokens.</summary>
    private static ITokenizer ByteLevel(string[] merges, string[] extra, int[]? extraTypes = null, string pre = "gpt-2", string? name = null)
    {
        var tokens = new List<string>();
        for (int b = 0; b < 256; b++) tokens.Add(Gpt2ByteMapping.ByteToChar((byte)b).ToString());
        tokens.AddRange(extra);
        var types = Enumerable.Repeat(1, 256).Concat(extraTypes ?? Enumerable.Repeat(1, extra.Length)).ToArray();
        return new Tokenizer(new TokenizerDefinition
        {
            Source = "hand-built", Model = "gpt2", Pre = pre, Tokens = tokens.ToArray(), TokenTypes = types, Merges = merges, GeneralName = name,
        });
    }

    private static int Id(ITokenizer t, string text)
    {
        for (int i = 0; i < t.VocabSize; i++) if (t.TokenText(i) == text) return i;
        throw new InvalidOperationException(text);
    }

    [Fact]
    public void LowestRankedMergeIsAppliedFirst()
    {
        var ab = ByteLevel(["a b", "b c", "ab c"], ["ab", "bc", "abc"]);
        Assert.Equal([Id(ab, "abc")], ab.Encode("abc", false));
        // Same vocabulary, other order: "b c" first, and no merge turns a + bc into abc.
        var bc = ByteLevel(["b c", "a b", "ab c"], ["ab", "bc", "abc"]);
        Assert.Equal([(int)'a', Id(bc, "bc")], bc.Encode("abc", false));
    }

    [Fact]
    public void EqualRanksMergeLeftmostFirst()
    {
        var t = ByteLevel(["a a"], ["aa"]);
        Assert.Equal([Id(t, "aa"), (int)'a'], t.Encode("aaa", false));
        Assert.Equal([Id(t, "aa"), Id(t, "aa")], t.Encode("aaaa", false));
    }

    [Fact]
    public void MergesNeverCrossPreTokenizerWords()
    {
        // GPT-2 splits " b" from "a", so "a b" cannot merge across the space.
        var t = ByteLevel(["a Ġ", "aĠ b"], ["aĠ", "aĠb"]);
        int[] ids = t.Encode("a b", false);
        // Byte tokens have id = byte value, so ' ' (stored as 'Ġ') is id 32; "Ġb" is no token, so it stays split.
        Assert.Equal([(int)'a', (int)' ', (int)'b'], ids);
    }

    [Fact]
    public void ControlTokensAreParsedOnlyOnRequestButUserDefinedAlways()
    {
        var t = ByteLevel([], ["<x>", "UD"], [3, 4]);
        int control = Id(t, "<x>"), user = Id(t, "UD");
        int[] plain = t.Encode("a<x>bUDc", addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(control, plain);
        Assert.Contains(user, plain);
        Assert.Equal([(int)'a', control, (int)'b', user, (int)'c'], t.Encode("a<x>bUDc", addSpecial: false, parseSpecial: true));
    }

    [Fact]
    public void LongerSpecialTokenWinsOverItsPrefix()
    {
        var t = ByteLevel([], ["<x>", "<x>y"], [3, 3]);
        Assert.Equal([Id(t, "<x>y"), Id(t, "<x>")], t.Encode("<x>y<x>", addSpecial: false));
    }

    [Fact]
    public void Phi3ModelsDropWhitespaceAfterSpecialTokens()
    {
        var t = ByteLevel([], ["<|user|>"], [3], name: "Phi3-mini");
        Assert.Equal([Id(t, "<|user|>"), (int)'h'], t.Encode("<|user|> \nh", addSpecial: false));
        var other = ByteLevel([], ["<|user|>"], [3]);
        Assert.Equal([Id(other, "<|user|>"), ' ', '\n', 'h'], other.Encode("<|user|> \nh", addSpecial: false));
    }

    [Fact]
    public void SentencePieceMergesByScoreAndFallsBackToBytes()
    {
        // 0 <unk>, 1 <s>, 2 </s>, 3..258 byte tokens, then pieces with scores.
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<int> { 2, 3, 3 };
        var scores = new List<float> { 0, 0, 0 };
        for (int b = 0; b < 256; b++) { tokens.Add($"<0x{b:X2}>"); types.Add(6); scores.Add(0); }
        foreach (var (piece, score) in new[] { ("▁", -1f), ("a", -2f), ("b", -2f), ("▁a", -3f), ("ab", -1.5f), ("▁ab", -4f) })
        { tokens.Add(piece); types.Add(1); scores.Add(score); }
        var t = new Tokenizer(new TokenizerDefinition
        {
            Source = "hand-built spm", Model = "llama", Tokens = tokens.ToArray(), TokenTypes = types.ToArray(), Scores = scores.ToArray(),
        });
        int Piece(string p) => tokens.IndexOf(p);
        // "▁ab": pairs ▁a (-3) and ab (-1.5): ab wins, then ▁ + ab = ▁ab (-4) merges.
        Assert.Equal([1, Piece("▁ab")], t.Encode("ab"));
        // "é" is not a piece: its two UTF-8 bytes become <0xC3> <0xA9>.
        Assert.Equal([Piece("▁"), 3 + 0xC3, 3 + 0xA9], t.Encode("é", addSpecial: false));
        Assert.Equal("abé", t.Decode(t.Encode("abé"), skipSpecial: true));
        Assert.Equal("<s> abé", t.Decode(t.Encode("abé"))); // llama.cpp renders BOS, then keeps the space
        Assert.True(t.AddBos);
        Assert.Equal(2, t.EosId);
    }

    [Fact]
    public void BadVocabulariesAreRejectedWithTheProblemNamed()
    {
        var dup = Assert.Throws<InvalidDataException>(() => ByteLevel([], ["a"]));
        Assert.Contains("duplicate token", dup.Message);
        var pre = Assert.Throws<NotSupportedException>(() => ByteLevel([], [], pre: "no-such-pre"));
        Assert.Contains("no-such-pre", pre.Message);
        var model = Assert.Throws<NotSupportedException>(() => new Tokenizer(new TokenizerDefinition { Source = "x", Model = "rwkv", Tokens = ["a"] }));
        Assert.Contains("rwkv", model.Message);
        var t = ByteLevel([], []);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.TokenBytes(256));
    }
}
