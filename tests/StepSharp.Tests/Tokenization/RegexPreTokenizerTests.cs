using StepSharp.Tokenization;

namespace StepSharp.Tests.Tokenization;

/// <summary>
/// The pre-tokenizer emulation: the hand-written GPT-2 / Llama-3 matchers against the general regex
/// path running the same pattern, and splits of the deepseek-v3 patterns (Step's family) worked out by hand.
/// </summary>
public class RegexPreTokenizerTests
{
    private static List<string> Words(RegexPreTokenizer pre, string text)
    {
        int[] cps = text.EnumerateRunes().Select(r => r.Value).ToArray();
        var words = new List<string>();
        int start = 0;
        foreach (int len in pre.Split(cps))
        {
            words.Add(string.Concat(cps.Skip(start).Take(len).Select(char.ConvertFromUtf32)));
            start += len;
        }
        return words;
    }

    private static IEnumerable<string> AllReferenceTexts() =>
        TokenizerTestData.Vocabs.SelectMany(TokenizerTestData.Cases).Select(c => c.Text).Distinct()
            .Concat(["a  b", "x \u00A0 y", "tab\t\tend\t", "it's 'RE we'LL", "\u3000全角　space", "x1234567y", "\r\n\r\n  \n"]);

    [Theory]
    [InlineData(CustomSplitters.Gpt2Pattern)]
    [InlineData(CustomSplitters.Llama3Pattern)]
    public void HandWrittenMatcherEqualsRegexPath(string pattern)
    {
        var custom = new RegexPreTokenizer([pattern]);
        var regex = new RegexPreTokenizer(["(?:" + pattern + ")"]); // not the literal pattern → general regex path
        foreach (string text in AllReferenceTexts())
            Assert.Equal(Words(regex, text), Words(custom, text));
    }

    [Theory]
    [InlineData(CustomSplitters.Gpt2Pattern)]
    [InlineData(CustomSplitters.Llama3Pattern)]
    public void HandWrittenMatcherEqualsRegexPathOnRandomMixtures(string pattern)
    {
        // Random strings over characters of every class the patterns distinguish (fixed seed).
        string[] alphabet = [" ", "  ", "\n", "\r", "\t", "a", "Z", "s", "t", "1", "²", "'", "é", "東", "!", "+", "\u00A0", "\u3000", "😀", "\u0301", "\u200D", "ー", "\u0085"];
        var custom = new RegexPreTokenizer([pattern]);
        var regex = new RegexPreTokenizer(["(?:" + pattern + ")"]);
        var random = new Random(1234);
        for (int n = 0; n < 3000; n++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(1, 12)).Select(_ => alphabet[random.Next(alphabet.Length)]));
            Assert.Equal(Words(regex, text), Words(custom, text));
        }
    }

    [Fact]
    public void DeepseekV3SplitsNumbersCjkAndWords()
    {
        var pre = new RegexPreTokenizer(PreTokenizerCatalog.Get("deepseek-v3", "test").Regexes);
        // \p{N}{1,3} first: 12345 → 123 | 45; a CJK + kana run next; then letters with one leading
        // non-letter (space or other), punctuation runs with trailing newlines, and whitespace.
        Assert.Equal(["Hello", ",", " world", "!\n", "123", "45", " ", "東京です", " a", ".bCd"],
            Words(pre, "Hello, world!\n12345 東京です a.bCd"));
        Assert.Equal(["I", "'m", " fine", "  ", " ok"], Words(pre, "I'm fine   ok"));
    }

    [Fact]
    public void CollapsedClassesTreatAllLettersAlike()
    {
        // llama.cpp collapses every letter category to one stand-in, so \p{Lu} also matches lower case.
        var pre = new RegexPreTokenizer(["\\p{Lu}+"]);
        Assert.Equal(["ÄbcÖ", " ", "déf"], Words(pre, "ÄbcÖ déf"));
    }

    [Fact]
    public void AstralCodePointsInCharacterClassesMatchWhole()
    {
        // deepseek-llm's letter class includes U+10400..U+1044F (Deseret); .NET needs surrogate pairs for it.
        var pre = new RegexPreTokenizer(PreTokenizerCatalog.Get("deepseek-llm", "test").Regexes);
        Assert.Equal(["𐐀𐐁", " x"], Words(pre, "𐐀𐐁 x"));
    }
}
