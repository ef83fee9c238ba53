namespace StepSharp.Tokenization;

/// <summary>How a byte-level BPE vocabulary pre-tokenizes, selected by <c>tokenizer.ggml.pre</c>.</summary>
/// <param name="Regexes">Split patterns applied in sequence (llama.cpp spelling).</param>
/// <param name="IgnoreMerges">A word that is itself a token is emitted whole (llama-3 style vocabularies).</param>
/// <param name="AddBosDefault">llama.cpp's add_bos default for this pre-tokenizer (before the GGUF key).</param>
/// <param name="NoBosToken">The pre-tokenizer disables the default BOS id (chatglm).</param>
internal sealed record PreTokenizerSettings(string[] Regexes, bool IgnoreMerges = false, bool AddBosDefault = false, bool NoBosToken = false);

/// <summary>
/// The table of llama.cpp's llm_tokenizer_bpe constructor and the <c>tokenizer_pre</c> → pre-type mapping of
/// llama_vocab::impl::load (src/llama-vocab.cpp). Patterns are copied from there because the GGUF does
/// not store the regex: the name alone decides it.
/// </summary>
internal static class PreTokenizerCatalog
{
    private const string Gpt2 = CustomSplitters.Gpt2Pattern;
    private const string Llama3 = CustomSplitters.Llama3Pattern;

    private static readonly string[] DefaultRegexes =
    [
        """[\p{P}\$\+<=>\^~\|]+""",
        Gpt2,
        """\p{N}+""",
        "[0-9][0-9][0-9]",
    ];

    private const string DeepseekLlmLetters =
        // Escapes: these code points have singleton canonical decompositions, so copies of the pattern
        // that went through NFC normalisation silently lose them (e.g. U+212A KELVIN SIGN becomes "K").
        "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";

    private static readonly string[] DeepseekLlm =
    [
        "[\r\n]",
        DeepseekLlmLetters,
        """\s?[!-/:-~！-／：-～‘-‟　-。]+""",
        """\s+$""",
        "[一-龥ࠀ-一가-퟿]+",
        """\p{N}+""",
    ];

    private static readonly string[] DeepseekCoder =
    [
        "[\r\n]",
        """\s?\p{L}+""",
        """\s?\p{P}+""",
        "[一-龥ࠀ-一가-퟿]+",
        """\p{N}""",
    ];

    private static readonly string[] DeepseekV3 =
    [
        """\p{N}{1,3}""",
        "[一-龥぀-ゟ゠-ヿ]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    ];

    private static readonly string[] Falcon =
    [
        """[\p{P}\$\+<=>\^~\|`]+""",
        Gpt2,
        "[0-9][0-9][0-9]",
    ];

    private static readonly string[] Starcoder = ["""\p{N}""", Gpt2];

    private const string Qwen2 = """(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""";
    private const string Qwen35 = """(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""";
    private const string Poro = """ ?[^(\s|.,!?…。，、।۔،)]+""";
    private const string Tekken = """[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""";
    private const string Gpt4o = """[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""";
    private const string Bailing = """'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+""";
    private const string SeedCoder = """(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+""";
    private const string Chameleon4 = """[\p{P}!-/:-@\[-`{-~]""";

    /// <summary>Settings for a <c>tokenizer.ggml.pre</c> value; an empty or missing value means "default".</summary>
    public static PreTokenizerSettings Get(string? pre, string source)
    {
        switch (pre ?? "")
        {
            case "": case "default": return new(DefaultRegexes);
            case "llama3": case "llama-v3": case "llama-bpe": case "falcon3": case "falcon-h1": case "pixtral":
            case "midm-2.0": case "lfm2": case "jina-v5-nano":
                return new([Llama3], IgnoreMerges: true, AddBosDefault: true);
            case "dbrx": case "smaug-bpe": return new([Llama3]);
            case "chatglm-bpe": case "glm4": return new([Llama3], NoBosToken: true);
            case "deepseek-llm": return new(DeepseekLlm);
            case "deepseek-coder": return new(DeepseekCoder);
            case "deepseek-v3": case "hunyuan-dense": case "joyai-llm": case "hy_v4": return new(DeepseekV3);
            case "falcon": return new(Falcon);
            case "mpt": case "gpt-2": case "phi-2": case "jina-es": case "jina-de": case "gigachat": case "jina-v2-es":
            case "jina-v2-de": case "a.x-4.0": case "mellum": case "modern-bert": case "jina-v1-en": case "jina-v2-code":
            case "roberta-bpe": case "olmo": case "jais": case "trillion": case "granite-docling": case "exaone4":
                return new([Gpt2]);
            case "starcoder": case "refact": case "command-r": case "smollm": case "codeshell": case "exaone":
            case "minerva-7b": case "mellum2":
                return new(Starcoder);
            case "qwen2": case "deepseek-r1-qwen": case "kormo": case "f2llmv2": case "megrez": case "stablelm2":
            case "hunyuan": case "solar-open": case "grok-2":
                return new([Qwen2]);
            case "qwen35": return new([Qwen35]);
            case "poro-chat": case "bloom": case "gpt3-finnish": return new([Poro]);
            case "viking": return new([Poro, """\p{N}"""]);
            case "tekken": return new([Tekken], IgnoreMerges: true, AddBosDefault: true);
            case "gpt-4o": case "llama4": case "kanana2": case "talkie": case "minimax-m2": return new([Gpt4o]);
            case "bailingmoe": case "bailingmoe2": case "llada-moe": return new([Bailing]);
            case "seed-coder": return new([SeedCoder]);
            case "chameleon":
                return new(["<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", """\p{N}""", Chameleon4, Gpt2],
                    AddBosDefault: true);
            default:
                throw new NotSupportedException($"{source}: unknown pre-tokenizer type tokenizer.ggml.pre = '{pre}'");
        }
    }
}
