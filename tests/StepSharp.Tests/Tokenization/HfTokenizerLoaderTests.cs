using System.Text.Json.Nodes;
using StepSharp.Formats;
using StepSharp.Tests.Support;
using StepSharp.Tokenization;

namespace StepSharp.Tests.Tokenization;

/// <summary>
/// tokenizer.json files written here from a GGUF vocabulary (tokens, merges, token types) must tokenize
/// exactly like the GGUF itself: the regexes now come from the file's pre_tokenizer instead of the
/// llama.cpp name table, and special tokens from added_tokens.
/// </summary>
public class HfTokenizerLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepsharp-hf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Gpt2ByteLevelJsonMatchesGguf()
    {
        string gguf = TestData.Path("tokenizers", "ggml-vocab-gpt-2.gguf");
        var preTokenizer = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true };
        string json = WriteJson(gguf, preTokenizer, mergesAsPairs: false);
        AssertSameIds(GgufTokenizerLoader.Load(gguf), HfTokenizerLoader.Load(json), TokenizerTestData.Cases("gpt-2"), false);
    }

    [Fact]
    public void DeepseekCoderSplitSequenceJsonMatchesGguf()
    {
        // deepseek-coder's pre-tokenizer as a Split sequence, merges in the [a, b] form, and
        // user-defined added tokens (special = false) that must still be split out first.
        string gguf = TestData.Path("tokenizers", "ggml-vocab-deepseek-coder.gguf");
        string[] regexes = ["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"];
        string json = WriteJson(gguf, SplitSequence(regexes), mergesAsPairs: true);
        var cases = TokenizerTestData.Cases("deepseek-coder");
        // Single-character user-defined tokens (ø ÷) are cut out before BPE in both.
        cases.Add(new("x ø÷y", GgufTokenizerLoader.Load(gguf).Encode("x ø÷y", false, false)));
        Assert.Contains(32006, cases[^1].Ids);
        AssertSameIds(GgufTokenizerLoader.Load(gguf), HfTokenizerLoader.Load(json), cases, false);
    }

    [Fact]
    public void Step35TinyJsonWithConfigMatchesLlamaCpp()
    {
        string gguf = TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf");
        string[] defaultRegexes = ["[\\p{P}\\$\\+<=>\\^~\\|]+", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)", "\\p{N}+", "[0-9][0-9][0-9]"];
        string json = WriteJson(gguf, SplitSequence(defaultRegexes), mergesAsPairs: false);
        File.WriteAllText(Path.Combine(_dir, "tokenizer_config.json"),
            new JsonObject { ["add_bos_token"] = true, ["bos_token"] = "<|bos|>", ["eos_token"] = new JsonObject { ["content"] = "<|endoftext|>" } }.ToJsonString());
        var hf = HfTokenizerLoader.Load(json);
        Assert.Equal(506, hf.BosId);
        Assert.Equal(507, hf.EosId);
        Assert.True(hf.AddBos);
        foreach (var c in TokenizerTestData.ReadCases(TestData.Path("step35-tiny", "tokenizer.json")))
            Assert.Equal(TokenizerTestData.Show(c.Ids), TokenizerTestData.Show(hf.Encode(c.Text, addSpecial: true, parseSpecial: true)));
    }

    [Fact]
    public void GgufWithRegexesFromTokenizerJsonUsesThem()
    {
        // The deepseek-coder GGUF, but split by the regexes of a tokenizer.json (here: deepseek-coder's own),
        // must give the reference ids.
        string gguf = TestData.Path("tokenizers", "ggml-vocab-deepseek-coder.gguf");
        string json = WriteJson(gguf, SplitSequence(["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"]), mergesAsPairs: false);
        var regexes = HfTokenizerLoader.ReadPreTokenizerRegexes(json);
        Assert.Equal(5, regexes.Count);
        using var file = GgufFile.Open(gguf);
        var tok = GgufTokenizerLoader.Load(file.Metadata, "deepseek-coder", regexes);
        foreach (var c in TokenizerTestData.Cases("deepseek-coder"))
            Assert.Equal(TokenizerTestData.Show(c.Ids), TokenizerTestData.Show(tok.Encode(c.Text, false, false)));
        // A pattern that isolates every character leaves nothing for the merges to join.
        var perCharacter = GgufTokenizerLoader.Load(file.Metadata, "deepseek-coder", ["."]);
        Assert.Single(tok.Encode("Hello", false));
        Assert.Equal(5, perCharacter.Encode("Hello", false).Length);
    }

    [Fact]
    public void SentencePieceStyleBpeJsonUsesMetaspaceByteFallbackAndTemplateBos()
    {
        // Llama-2 style tokenizer.json: "▁" normalizers, byte-fallback tokens, BOS from the post-processor.
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++) vocab[$"<0x{b:X2}>"] = 3 + b;
        vocab["▁"] = 259; vocab["a"] = 260; vocab["b"] = 261; vocab["ab"] = 262; vocab["▁ab"] = 263;
        var root = new JsonObject
        {
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 0, ["content"] = "<unk>", ["special"] = true },
                new JsonObject { ["id"] = 1, ["content"] = "<s>", ["special"] = true },
                new JsonObject { ["id"] = 2, ["content"] = "</s>", ["special"] = true }),
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = null,
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
            },
            ["decoder"] = new JsonObject { ["type"] = "Sequence", ["decoders"] = new JsonArray(new JsonObject { ["type"] = "ByteFallback" }) },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray("a b", "▁ ab"), ["byte_fallback"] = true, ["unk_token"] = "<unk>",
            },
        };
        string path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, root.ToJsonString());
        var t = HfTokenizerLoader.Load(path);
        Assert.True(t.AddBos);
        Assert.True(t.AddSpacePrefix);
        // "▁ab▁ab": a+b (rank 0) at both places first, then ▁+ab (rank 1).
        Assert.Equal([1, 263, 263], t.Encode("ab ab"));
        // "é" has no piece: its UTF-8 bytes C3 A9 as byte tokens after the "▁".
        Assert.Equal([259, 3 + 0xC3, 3 + 0xA9], t.Encode("é", addSpecial: false));
        Assert.Equal("ab abé", t.Decode(t.Encode("ab abé"), skipSpecial: true));
    }

    [Fact]
    public void UnsupportedPreTokenizerIsRejectedWithItsName()
    {
        string gguf = TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf");
        string json = WriteJson(gguf, new JsonObject { ["type"] = "Whitespace" }, mergesAsPairs: false);
        var e = Assert.Throws<NotSupportedException>(() => HfTokenizerLoader.Load(json));
        Assert.Contains("Whitespace", e.Message);
    }

    [Fact]
    public void PossessiveQuantifiersAndCaseInsensitiveGroupsAreAdapted()
    {
        Assert.Equal("(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|a?b+c*\\++",
            HfPipelineReader.AdaptRegex("(?i:'s|'t|'re|'ve|'m|'ll|'d)|a?+b++c*+\\++"));
    }

    private static JsonObject SplitSequence(string[] regexes)
    {
        var list = new JsonArray();
        foreach (string r in regexes)
            list.Add(new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = r }, ["behavior"] = "Isolated", ["invert"] = false });
        list.Add(new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false });
        return new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = list };
    }

    /// <summary>Writes a tokenizer.json holding the GGUF's vocabulary: normal tokens in model.vocab, the rest in added_tokens.</summary>
    private string WriteJson(string ggufPath, JsonObject preTokenizer, bool mergesAsPairs)
    {
        using var file = GgufFile.Open(ggufPath);
        var md = file.Metadata;
        string[] tokens = md.GetStringArray("tokenizer.ggml.tokens")!;
        long[] types = md.GetInt64Array("tokenizer.ggml.token_type")!;
        var vocab = new JsonObject();
        var added = new JsonArray();
        for (int i = 0; i < tokens.Length; i++)
        {
            if (types[i] == 1) { vocab[tokens[i]] = i; continue; }
            added.Add(new JsonObject { ["id"] = i, ["content"] = tokens[i], ["special"] = types[i] == 3, ["normalized"] = false });
        }
        var merges = new JsonArray();
        foreach (string m in md.GetStringArray("tokenizer.ggml.merges")!)
        {
            if (!mergesAsPairs) { merges.Add(m); continue; }
            int space = m.IndexOf(' ', 1);
            merges.Add(new JsonArray(m[..space], m[(space + 1)..]));
        }
        var root = new JsonObject
        {
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = preTokenizer,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = merges },
        };
        string path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    private static void AssertSameIds(ITokenizer expected, ITokenizer actual, List<TokenizerTestData.Case> cases, bool parseSpecial)
    {
        Assert.Equal(expected.VocabSize, actual.VocabSize);
        foreach (var c in cases)
        {
            Assert.Equal(TokenizerTestData.Show(c.Ids), TokenizerTestData.Show(actual.Encode(c.Text, addSpecial: false, parseSpecial: parseSpecial)));
            Assert.Equal(c.Text, actual.Decode(actual.Encode(c.Text, false, parseSpecial)));
        }
        _ = expected;
    }
}
