using System.Text.Json;

namespace StepSharp.Tokenization;

/// <summary>
/// Builds a tokenizer from a Hugging Face tokenizer.json (+ tokenizer_config.json beside it, if present),
/// mapped onto the same vocabulary rules llama.cpp's GGUF converter produces, so ids equal those of the
/// converted GGUF:
/// <list type="bullet">
/// <item>model BPE with a ByteLevel pre-tokenizer/decoder → byte-level BPE; the Split regexes of the
/// pre_tokenizer replace the name-selected table (run with llama.cpp's regex emulation);</item>
/// <item>model BPE with Metaspace / "▁" normalizers (SentencePiece converted to BPE) → SentencePiece
/// merging with token scores −(merge rank), the order in which BPE would form them;</item>
/// <item>added_tokens: "special" → control, otherwise user-defined (always split out first).</item>
/// </list>
/// Microsoft.ML.Tokenizers is not used: it has no tokenizer.json reader, its BPE runs .NET-regex
/// pre-tokenization (not llama.cpp's std::regex/collapsed-category semantics) and has no notion of
/// llama.cpp's user-defined/control partitioning, so its ids can differ from llama.cpp's.
/// </summary>
public static class HfTokenizerLoader
{
    public static ITokenizer Load(string tokenizerJsonPath, string? tokenizerConfigPath = null)
    {
        string source = Path.GetFileName(tokenizerJsonPath);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath), new JsonDocumentOptions { AllowTrailingCommas = true });
        var root = doc.RootElement;
        tokenizerConfigPath ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!, "tokenizer_config.json");
        using var config = File.Exists(tokenizerConfigPath) ? JsonDocument.Parse(File.ReadAllBytes(tokenizerConfigPath)) : null;
        return new Tokenizer(ReadDefinition(root, config?.RootElement, source));
    }

    /// <summary>The split regexes of a tokenizer.json's pre_tokenizer (adapted as llama.cpp adapts them).</summary>
    public static IReadOnlyList<string> ReadPreTokenizerRegexes(string tokenizerJsonPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath), new JsonDocumentOptions { AllowTrailingCommas = true });
        return HfPipelineReader.ReadPreTokenizer(doc.RootElement, Path.GetFileName(tokenizerJsonPath)).Regexes;
    }

    internal static TokenizerDefinition ReadDefinition(JsonElement root, JsonElement? config, string source)
    {
        var model = root.GetProperty("model");
        string type = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        if (type != "BPE") throw new NotSupportedException($"{source}: model type '{type}' is not supported (only BPE)");

        // Vocabulary: model.vocab plus added_tokens; ids not used by either become [PADn] placeholders.
        var byId = new SortedDictionary<int, string>();
        foreach (var p in model.GetProperty("vocab").EnumerateObject()) byId[p.Value.GetInt32()] = p.Name;
        var types = new Dictionary<int, int>();
        if (root.TryGetProperty("added_tokens", out var added))
        {
            foreach (var a in added.EnumerateArray())
            {
                int id = a.GetProperty("id").GetInt32();
                string content = a.GetProperty("content").GetString()!;
                bool special = a.TryGetProperty("special", out var s) && s.GetBoolean();
                byId[id] = content;
                types[id] = special || LooksSpecial(content) ? 3 : 4;
            }
        }
        if (byId.Count == 0) throw new InvalidDataException($"{source}: model.vocab is empty");
        int count = byId.Keys.Max() + 1;
        var tokens = new string[count];
        var tokenTypes = new int[count];
        for (int i = 0; i < count; i++)
        {
            tokens[i] = byId.TryGetValue(i, out var text) ? text : $"[PAD{i}]";
            tokenTypes[i] = types.TryGetValue(i, out int tt) ? tt : byId.ContainsKey(i) ? 1 : 5;
        }

        var merges = ReadMerges(model, source);
        var pre = HfPipelineReader.ReadPreTokenizer(root, source);
        var norm = HfPipelineReader.ReadNormalizer(root, source);
        bool byteLevel = pre.ByteLevel || DecoderHas(root, "ByteLevel");
        bool sentencePiece = !byteLevel && (pre.Metaspace || norm.SpaceToMetaspace);
        if (!byteLevel && !sentencePiece)
            throw new NotSupportedException($"{source}: BPE without ByteLevel or Metaspace handling is not supported");
        if (norm.Lowercase) throw new NotSupportedException($"{source}: a Lowercase normalizer on a BPE model is not supported");

        float[]? scores = null;
        if (sentencePiece)
        {
            // SentencePiece merging picks the highest-scoring pair; BPE the lowest merge rank.
            // Tokens no merge produces get the lowest score, so they are only formed when nothing else is.
            scores = new float[count];
            Array.Fill(scores, -1e9f);
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < count; i++) index.TryAdd(tokens[i], i);
            for (int rank = merges.Length - 1; rank >= 0; rank--)
            {
                string m = merges[rank];
                int space = m.IndexOf(' ', 1);
                if (space > 0 && index.TryGetValue(string.Concat(m.AsSpan(0, space), m.AsSpan(space + 1)), out int id))
                    scores[id] = -rank;
            }
            for (int i = 0; i < count; i++) if (tokens[i].Length == 1) scores[i] = 0f; // single characters
            for (int i = 0; i < count; i++)
                if (tokenTypes[i] == 1 && tokens[i].Length == 6 && tokens[i].StartsWith("<0x", StringComparison.Ordinal) && tokens[i][5] == '>')
                    tokenTypes[i] = 6;
        }

        string? unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        int? IdOf(string? text) => text is not null && Array.IndexOf(tokens, text) is int i and >= 0 ? i : null;
        var (bosText, eosText, addBos, addEos) = ReadConfig(config);
        var (templateBos, templateEos) = ReadPostProcessor(root);
        int? bos = IdOf(bosText) ?? IdOf(templateBos);
        int? eos = IdOf(eosText) ?? IdOf(templateEos);

        return new TokenizerDefinition
        {
            Source = source,
            Model = byteLevel ? "gpt2" : "llama",
            Pre = "default",
            Tokens = tokens,
            TokenTypes = tokenTypes,
            Scores = scores,
            Merges = byteLevel ? merges : null,
            PreTokenizerRegexes = pre.Regexes.ToArray(),
            NoPreTokenizerSplit = byteLevel && pre.Regexes.Count == 0,
            IgnoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True,
            BosId = bos,
            EosId = eos,
            UnkId = IdOf(unk),
            AddBos = addBos ?? (templateBos is not null ? true : byteLevel ? false : null),
            AddEos = addEos ?? (templateEos is not null ? true : null),
            AddSpacePrefix = sentencePiece ? pre.PrependSpace || norm.PrependMetaspace : null,
        };
    }

    /// <summary>Merges as "a b" strings or as ["a", "b"] pairs.</summary>
    private static string[] ReadMerges(JsonElement model, string source)
    {
        if (!model.TryGetProperty("merges", out var merges)) throw new InvalidDataException($"{source}: model.merges is missing");
        var result = new List<string>();
        int index = 0;
        foreach (var m in merges.EnumerateArray())
        {
            result.Add(m.ValueKind switch
            {
                JsonValueKind.String => m.GetString()!,
                JsonValueKind.Array when m.GetArrayLength() == 2 => m[0].GetString() + " " + m[1].GetString(),
                _ => throw new InvalidDataException($"{source}: model.merges[{index}] is neither \"a b\" nor [\"a\", \"b\"]"),
            });
            index++;
        }
        return result.ToArray();
    }

    /// <summary>
    /// convert_hf_to_gguf's does_token_look_special: some models flag markup tokens as not special; the
    /// converter makes them control anyway (so they are only parsed with parse_special).
    /// </summary>
    private static bool LooksSpecial(string text) =>
        text is "<pad>" or "<mask>" or "<2mass>" or "[@BOS@]"
        || (text.StartsWith("<|", StringComparison.Ordinal) && text.EndsWith("|>", StringComparison.Ordinal))
        || (text.StartsWith("<\uFF5C", StringComparison.Ordinal) && text.EndsWith("\uFF5C>", StringComparison.Ordinal))
        || (text.StartsWith("<unused", StringComparison.Ordinal) && text.EndsWith('>'));

    private static bool DecoderHas(JsonElement root, string type)
    {
        if (!root.TryGetProperty("decoder", out var d) || d.ValueKind != JsonValueKind.Object) return false;
        if (d.TryGetProperty("type", out var t) && t.GetString() == type) return true;
        return d.TryGetProperty("decoders", out var list) && list.EnumerateArray().Any(x => x.TryGetProperty("type", out var tt) && tt.GetString() == type);
    }

    private static (string? Bos, string? Eos, bool? AddBos, bool? AddEos) ReadConfig(JsonElement? config)
    {
        if (config is not JsonElement c || c.ValueKind != JsonValueKind.Object) return (null, null, null, null);
        static string? Text(JsonElement c, string name) =>
            !c.TryGetProperty(name, out var v) ? null
            : v.ValueKind == JsonValueKind.String ? v.GetString()
            : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var content) ? content.GetString() : null;
        static bool? Flag(JsonElement c, string name) =>
            c.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
        return (Text(c, "bos_token"), Text(c, "eos_token"), Flag(c, "add_bos_token"), Flag(c, "add_eos_token"));
    }

    /// <summary>Special tokens a TemplateProcessing post-processor puts first / last around a single sequence.</summary>
    private static (string? Bos, string? Eos) ReadPostProcessor(JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var pp) || pp.ValueKind != JsonValueKind.Object) return (null, null);
        if (pp.TryGetProperty("processors", out var list))
        {
            foreach (var p in list.EnumerateArray())
                if (p.TryGetProperty("type", out var t) && t.GetString() == "TemplateProcessing") { pp = p; break; }
        }
        if (!pp.TryGetProperty("single", out var single) || single.GetArrayLength() == 0) return (null, null);
        static string? Special(JsonElement item) => item.TryGetProperty("SpecialToken", out var s) ? s.GetProperty("id").GetString() : null;
        return (Special(single[0]), single.GetArrayLength() > 1 ? Special(single[single.GetArrayLength() - 1]) : null);
    }
}
