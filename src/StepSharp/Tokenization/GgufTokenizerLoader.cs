using StepSharp.Formats;

namespace StepSharp.Tokenization;

/// <summary>Builds a tokenizer from a GGUF file's <c>tokenizer.ggml.*</c> metadata (llama.cpp's key names).</summary>
public static class GgufTokenizerLoader
{
    public static ITokenizer Load(GgufMetadata metadata, string sourceName) => Load(metadata, sourceName, null);

    /// <param name="preTokenizerRegexes">
    /// Split patterns to use instead of the table selected by tokenizer.ggml.pre — for a file whose pre name
    /// this build does not know (e.g. read with <see cref="HfTokenizerLoader.ReadPreTokenizerRegexes"/> from the
    /// model's tokenizer.json). Null: choose by name, as llama.cpp does.
    /// </param>
    public static ITokenizer Load(GgufMetadata metadata, string sourceName, IReadOnlyList<string>? preTokenizerRegexes)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string model = metadata.GetString("tokenizer.ggml.model")
            ?? throw new InvalidDataException($"{sourceName}: tokenizer.ggml.model is missing (the file has no vocabulary)");
        string[] tokens = metadata.GetStringArray("tokenizer.ggml.tokens")
            ?? throw new InvalidDataException($"{sourceName}: cannot find tokenizer vocab (tokenizer.ggml.tokens)");
        long[]? types = metadata.GetInt64Array("tokenizer.ggml.token_type");

        int? Id(string key)
        {
            if (!metadata.TryGetInt64(key, out long v)) return null;
            return v >= 0 && v < tokens.Length ? (int)v : null; // out of range: llama.cpp keeps the default
        }
        bool? Flag(string key) => metadata.ContainsKey(key) ? metadata.GetBool(key, false) : null;

        var definition = new TokenizerDefinition
        {
            Source = sourceName,
            Model = model,
            Pre = preTokenizerRegexes is null ? metadata.GetString("tokenizer.ggml.pre") : "default",
            PreTokenizerRegexes = preTokenizerRegexes?.ToArray(),
            Tokens = tokens,
            Scores = metadata.GetFloat32Array("tokenizer.ggml.scores"),
            TokenTypes = types is null ? null : Array.ConvertAll(types, t => (int)t),
            Merges = metadata.GetStringArray("tokenizer.ggml.merges"),
            GeneralName = metadata.GetString("general.name"),
            BosId = Id("tokenizer.ggml.bos_token_id"),
            EosId = Id("tokenizer.ggml.eos_token_id"),
            EotId = Id("tokenizer.ggml.eot_token_id"),
            EomId = Id("tokenizer.ggml.eom_token_id"),
            UnkId = Id("tokenizer.ggml.unknown_token_id"),
            SepId = Id("tokenizer.ggml.seperator_token_id"),
            PadId = Id("tokenizer.ggml.padding_token_id"),
            MaskId = Id("tokenizer.ggml.mask_token_id"),
            FimPreId = Id("tokenizer.ggml.fim_pre_token_id") ?? Id("tokenizer.ggml.prefix_token_id"),
            FimSufId = Id("tokenizer.ggml.fim_suf_token_id") ?? Id("tokenizer.ggml.suffix_token_id"),
            FimMidId = Id("tokenizer.ggml.fim_mid_token_id") ?? Id("tokenizer.ggml.middle_token_id"),
            FimPadId = Id("tokenizer.ggml.fim_pad_token_id"),
            FimRepId = Id("tokenizer.ggml.fim_rep_token_id"),
            FimSepId = Id("tokenizer.ggml.fim_sep_token_id"),
            AddBos = Flag("tokenizer.ggml.add_bos_token"),
            AddEos = Flag("tokenizer.ggml.add_eos_token"),
            AddSpacePrefix = Flag("tokenizer.ggml.add_space_prefix"),
            Lowercase = Flag("tokenizer.ggml.normalizer.lowercase"),
            StripAccents = Flag("tokenizer.ggml.normalizer.strip_accents"),
        };
        return new Tokenizer(definition);
    }

    /// <summary>Opens a GGUF file and loads its tokenizer.</summary>
    public static ITokenizer Load(string ggufPath)
    {
        using var file = GgufFile.Open(ggufPath);
        return Load(file.Metadata, Path.GetFileName(ggufPath));
    }
}
