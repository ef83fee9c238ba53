using System.Text;
using StepSharp.Tokenization;

namespace StepSharp.Tests.Tokenization;

/// <summary>Decoding: round trips on the reference vectors and streaming that never splits a character.</summary>
public class StreamingDetokenizerTests
{
    // WordPiece lower-cases and drops accents and whitespace, so it cannot round-trip.
    public static TheoryData<string> LosslessVocabs => new(TokenizerTestData.Vocabs.Where(v => v != "bert-bge"));
    public static TheoryData<string> AllVocabs => new(TokenizerTestData.Vocabs);

    [Theory]
    [MemberData(nameof(LosslessVocabs))]
    public void DecodeOfEncodeIsTheOriginalText(string vocab)
    {
        var tokenizer = TokenizerTestData.Load(vocab);
        foreach (var c in TokenizerTestData.Cases(vocab))
            Assert.Equal(c.Text, tokenizer.Decode(tokenizer.Encode(c.Text, addSpecial: false, parseSpecial: false)));
    }

    [Theory]
    [MemberData(nameof(AllVocabs))]
    public void StreamingEqualsWholeDecodingAtEveryChunking(string vocab)
    {
        var tokenizer = TokenizerTestData.Load(vocab);
        foreach (var c in TokenizerTestData.Cases(vocab))
        {
            string whole = tokenizer.Decode(c.Ids);
            Assert.Equal(whole, Stream(tokenizer, c.Ids, chunk: 1));
            // Every way of cutting the id list in two, pushed as two runs of single tokens with a check between.
            for (int cut = 0; cut <= Math.Min(c.Ids.Length, 64); cut++)
            {
                var detok = new StreamingDetokenizer(tokenizer, stripLeadingSpace: true);
                var sb = new StringBuilder();
                foreach (int id in c.Ids.AsSpan(0, cut)) sb.Append(CheckedPush(detok, id));
                string first = sb.ToString();
                Assert.True(whole.StartsWith(first, StringComparison.Ordinal), $"{vocab}: prefix after {cut} tokens is not a prefix of the whole text");
                foreach (int id in c.Ids.AsSpan(cut)) sb.Append(CheckedPush(detok, id));
                sb.Append(detok.Flush());
                Assert.Equal(whole, sb.ToString());
            }
        }
    }

    private static string Stream(ITokenizer tokenizer, int[] ids, int chunk)
    {
        var detok = new StreamingDetokenizer(tokenizer, stripLeadingSpace: true);
        var sb = new StringBuilder();
        for (int i = 0; i < ids.Length; i += chunk)
            foreach (int id in ids.AsSpan(i, Math.Min(chunk, ids.Length - i))) sb.Append(CheckedPush(detok, id));
        return sb.Append(detok.Flush()).ToString();
    }

    /// <summary>A pushed chunk must never end inside a surrogate pair (i.e. half a character).</summary>
    private static string CheckedPush(StreamingDetokenizer detok, int id)
    {
        string s = detok.Push(id);
        if (s.Length > 0) Assert.False(char.IsHighSurrogate(s[^1]), "streaming emitted half a surrogate pair");
        if (s.Length > 0) Assert.False(char.IsLowSurrogate(s[0]), "streaming emitted a dangling low surrogate");
        return s;
    }

    [Fact]
    public void EmojiSpreadOverByteTokensIsHeldUntilComplete()
    {
        // gpt-2 has no token for the 4 bytes of U+1F642, so byte-level BPE spells it with byte tokens.
        var tokenizer = TokenizerTestData.Load("gpt-2");
        int[] ids = tokenizer.Encode("🙂", addSpecial: false);
        Assert.True(ids.Length > 1, "expected the emoji to need several tokens");
        var detok = new StreamingDetokenizer(tokenizer);
        for (int i = 0; i < ids.Length - 1; i++) Assert.Equal("", detok.Push(ids[i]));
        Assert.Equal("🙂", detok.Push(ids[^1]));
        Assert.Equal("", detok.Flush());
    }

    [Fact]
    public void IncompleteSequenceAtTheEndBecomesReplacementCharacter()
    {
        var tokenizer = TokenizerTestData.Load("gpt-2");
        int[] ids = tokenizer.Encode("é🙂", addSpecial: false);
        var detok = new StreamingDetokenizer(tokenizer);
        var sb = new StringBuilder();
        foreach (int id in ids.AsSpan(0, ids.Length - 1)) sb.Append(detok.Push(id)); // drop the emoji's last byte
        sb.Append(detok.Flush());
        Assert.Equal("é\uFFFD", sb.ToString());
        Assert.Equal(sb.ToString(), tokenizer.Decode(ids.AsSpan(0, ids.Length - 1)));
    }

    [Fact]
    public void SentencePieceByteFallbackTokensDecodeToUtf8()
    {
        // llama-spm: a character missing from the vocabulary is spelled with <0xXX> tokens.
        var tokenizer = TokenizerTestData.Load("llama-spm");
        int[] ids = tokenizer.Encode("🦙", addSpecial: false);
        foreach (int id in ids.Skip(1)) Assert.Matches("^<0x[0-9A-F]{2}>$", tokenizer.TokenText(id));
        Assert.Equal([0xF0], tokenizer.TokenBytes(ids[1]).ToArray());
        Assert.Equal("🦙", tokenizer.Decode(ids));
        // A generation stream (no leading-space removal) keeps the space of the "▁" token.
        var detok = new StreamingDetokenizer(tokenizer);
        var sb = new StringBuilder();
        foreach (int id in ids) sb.Append(detok.Push(id));
        Assert.Equal(" 🦙", sb.Append(detok.Flush()).ToString());
    }
}
