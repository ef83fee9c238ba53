using StepSharp.Tests.Support;
using StepSharp.Tokenization;

namespace StepSharp.Tests.Tokenization;

/// <summary>Tokenizers embedded in the reference models, against llama-tokenize / llama.cpp outputs.</summary>
public class GgufTokenizerLoaderTests
{
    private static ITokenizer Step35Tiny() => GgufTokenizerLoader.Load(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));

    [Fact]
    public void Step35TinyMatchesLlamaTokenizeWithBosAndSpecialTokens()
    {
        var tokenizer = Step35Tiny();
        var cases = TokenizerTestData.ReadCases(TestData.Path("step35-tiny", "tokenizer.json"));
        Assert.Equal(9, cases.Count);
        foreach (var c in cases)
            Assert.Equal(TokenizerTestData.Show(c.Ids), TokenizerTestData.Show(tokenizer.Encode(c.Text, addSpecial: true, parseSpecial: true)));
    }

    [Fact]
    public void Step35TinySpecialTokensAndEndOfGeneration()
    {
        var tokenizer = Step35Tiny();
        // README: ids 506-511 are <|bos|>, <|endoftext|>, <|im_start|>, <|im_end|>, <think>, </think>; add_bos_token = true.
        Assert.Equal(512, tokenizer.VocabSize);
        Assert.Equal(506, tokenizer.BosId);
        Assert.Equal(507, tokenizer.EosId);
        Assert.True(tokenizer.AddBos);
        Assert.Equal(509, tokenizer.TryGetSpecialId("<|im_end|>"));
        Assert.Null(tokenizer.TryGetSpecialId("hello"));
        Assert.True(tokenizer.IsControl(510));
        Assert.False(tokenizer.IsControl(100));
        Assert.Contains(507, tokenizer.EndOfGenerationIds);
        Assert.Contains(509, tokenizer.EndOfGenerationIds);
        // Without parse_special the markup is plain text.
        int[] plain = tokenizer.Encode("<|im_end|>", addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(509, plain);
        Assert.Equal("<|im_end|>", tokenizer.Decode(plain));
        Assert.Equal("<|im_end|>", tokenizer.Decode([509]));
        Assert.Equal("", tokenizer.Decode([509], skipSpecial: true));
    }

    [Fact]
    public void Step35TinyGreedyPiecesMatchLlamaCppTokenPieces()
    {
        // logits.f32.text.json holds llama.cpp's token_pieces_hex for the text sequence: each token's raw bytes.
        var tokenizer = Step35Tiny();
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(TestData.Path("step35-tiny", "logits.f32.text.json")));
        var tokens = doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        var hex = doc.RootElement.GetProperty("token_pieces_hex").EnumerateArray().Select(t => t.GetString()!).ToArray();
        Assert.Equal(tokens.Length, hex.Length);
        for (int i = 0; i < tokens.Length; i++)
            Assert.Equal(hex[i].ToLowerInvariant(), Convert.ToHexStringLower(tokenizer.TokenBytes(tokens[i])));

        // The greedy continuation (special tokens included) decodes to llama.cpp's greedy_text_hex.
        var greedy = doc.RootElement.GetProperty("greedy_tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        byte[] expected = Convert.FromHexString(doc.RootElement.GetProperty("greedy_text_hex").GetString()!);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected), tokenizer.Decode(greedy));
    }

    [Fact]
    public void Stories260KPromptMatchesLlamaCpp()
    {
        var tokenizer = GgufTokenizerLoader.Load(TestData.Path("stories260K", "stories260K.gguf"));
        Assert.Equal([1, 403, 407, 261, 378], tokenizer.Encode("Once upon a time"));
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
        Assert.True(tokenizer.AddSpacePrefix);
        Assert.Equal("Once upon a time", tokenizer.Decode([403, 407, 261, 378]));
    }
}
