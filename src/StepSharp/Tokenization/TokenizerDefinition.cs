namespace StepSharp.Tokenization;

/// <summary>llama.cpp's token attributes (llama_token_attr); a token's GGUF type sets the first of them.</summary>
[Flags]
internal enum TokenAttributes
{
    Undefined = 0,
    Unknown = 1 << 0,
    Unused = 1 << 1,
    Normal = 1 << 2,
    Control = 1 << 3,
    UserDefined = 1 << 4,
    Byte = 1 << 5,
    Normalized = 1 << 6,
    LStrip = 1 << 7,
    RStrip = 1 << 8,
    SingleWord = 1 << 9,
}

/// <summary>
/// Everything a tokenizer file says, before llama.cpp's loading rules are applied: the raw vocabulary
/// (GGUF <c>tokenizer.ggml.*</c> keys, or the same facts read from a Hugging Face tokenizer.json).
/// Null means "key absent" so that llama.cpp's per-model defaults apply.
/// </summary>
internal sealed class TokenizerDefinition
{
    /// <summary>Where the definition came from, for error messages.</summary>
    public required string Source { get; init; }
    /// <summary>tokenizer.ggml.model: "gpt2", "llama", "bert", ...</summary>
    public required string Model { get; init; }
    /// <summary>tokenizer.ggml.pre (byte-level BPE only).</summary>
    public string? Pre { get; init; }
    public required string[] Tokens { get; init; }
    public float[]? Scores { get; init; }
    /// <summary>tokenizer.ggml.token_type: 1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte.</summary>
    public int[]? TokenTypes { get; init; }
    public string[]? Merges { get; init; }
    /// <summary>Overrides the regexes chosen by <see cref="Pre"/> (Hugging Face pre_tokenizer patterns).</summary>
    public string[]? PreTokenizerRegexes { get; init; }
    /// <summary>Hugging Face byte-level models whose pre-tokenizer has no regex split at all.</summary>
    public bool NoPreTokenizerSplit { get; init; }
    public string? GeneralName { get; init; }

    public int? BosId { get; init; }
    public int? EosId { get; init; }
    public int? EotId { get; init; }
    public int? EomId { get; init; }
    public int? UnkId { get; init; }
    public int? SepId { get; init; }
    public int? PadId { get; init; }
    public int? MaskId { get; init; }
    public int? FimPreId { get; init; }
    public int? FimSufId { get; init; }
    public int? FimMidId { get; init; }
    public int? FimPadId { get; init; }
    public int? FimRepId { get; init; }
    public int? FimSepId { get; init; }

    public bool? AddBos { get; init; }
    public bool? AddEos { get; init; }
    public bool? AddSpacePrefix { get; init; }
    public bool? IgnoreMerges { get; init; }
    /// <summary>BERT normalizer: lower-case (and by default strip accents).</summary>
    public bool? Lowercase { get; init; }
    public bool? StripAccents { get; init; }
}
