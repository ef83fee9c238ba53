using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using StepSharp.Formats;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Tokenization;

/// <summary>
/// An independent BPE implementation as a second opinion: Microsoft.ML.Tokenizers' byte-level
/// BpeTokenizer, given gpt-2's vocabulary and merges and the GPT-2 split regex (run by .NET's engine),
/// must produce the same ids as our tokenizer on the reference texts.
/// </summary>
public class MlTokenizersCrossCheckTests
{
    [Fact]
    public void ByteLevelBpeAgreesWithMicrosoftMlTokenizersOnGpt2()
    {
        string gguf = TestData.Path("tokenizers", "ggml-vocab-gpt-2.gguf");
        using var file = GgufFile.Open(gguf);
        string[] tokens = file.Metadata.GetStringArray("tokenizer.ggml.tokens")!;
        string[] merges = file.Metadata.GetStringArray("tokenizer.ggml.merges")!;
        var options = new BpeOptions(tokens.Select((t, i) => new KeyValuePair<string, int>(t, i)))
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(new Regex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"), null),
        };
        var reference = BpeTokenizer.Create(options);
        var ours = TokenizerTestData.Load("gpt-2");
        int compared = 0;
        foreach (var c in TokenizerTestData.Cases("gpt-2"))
        {
            var expected = reference.EncodeToIds(c.Text);
            Assert.Equal(TokenizerTestData.Show(expected), TokenizerTestData.Show(ours.Encode(c.Text, addSpecial: false, parseSpecial: false)));
            compared++;
        }
        Assert.Equal(46, compared);
    }
}
