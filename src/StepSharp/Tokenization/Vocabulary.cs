using System.Text;

namespace StepSharp.Tokenization;

internal enum VocabularyKind { SentencePiece, BytePair, WordPiece }

/// <summary>
/// A loaded vocabulary with llama.cpp's loading rules applied (llama_vocab::impl::load): per-model
/// default special ids, add_bos/add_eos defaults, attribute fix-ups of control-looking tokens, the
/// end-of-generation set and the special-token list used to split text before tokenizing.
/// </summary>
internal sealed class Vocabulary
{
    public required string Source { get; init; }
    public required VocabularyKind Kind { get; init; }
    public required string Model { get; init; }
    public required string[] Texts { get; init; }
    public required float[] Scores { get; init; }
    public required TokenAttributes[] Attributes { get; init; }
    public required Dictionary<string, int> TextToId { get; init; }
    // Span-keyed view of TextToId, so lookups of sub-strings allocate nothing.
    private Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanLookup;
    private byte[]?[] _pieces = [];

    /// <summary>The bytes a token renders to (llama.cpp token_to_piece with special = true), computed on first use.</summary>
    public byte[] Piece(int id) => _pieces[id] ??= TokenPiece(Kind, Texts[id], Attributes[id]);
    public required int[] SpecialTokensLongestFirst { get; init; }
    public required int[] EndOfGeneration { get; init; }
    public required int MaxTokenLength { get; init; }

    public int Bos { get; init; } = -1;
    public int Eos { get; init; } = -1;
    public int Eot { get; init; } = -1;
    public int Unk { get; init; } = -1;
    public int Sep { get; init; } = -1;
    public int Pad { get; init; } = -1;
    public bool AddBos { get; init; }
    public bool AddEos { get; init; }
    public bool AddSep { get; init; }
    public bool AddSpacePrefix { get; init; }
    public bool Lowercase { get; init; }
    public bool StripAccents { get; init; }

    public int Count => Texts.Length;

    private void FinishConstruction()
    {
        _pieces = new byte[Texts.Length][];
        _spanLookup = TextToId.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Find(ReadOnlySpan<char> text) => _spanLookup.TryGetValue(text, out int id) ? id : -1;

    /// <summary>llama_vocab::byte_to_token for SentencePiece vocabularies: &lt;0xXX&gt;, else the byte as text.</summary>
    public int ByteToToken(byte b)
    {
        Span<char> hex = ['<', '0', 'x', "0123456789ABCDEF"[b >> 4], "0123456789ABCDEF"[b & 15], '>'];
        int id = Find(hex);
        if (id >= 0) return id;
        if (b < 0x80) { Span<char> one = [(char)b]; id = Find(one); }
        return id >= 0 ? id : Unk;
    }

    // Token texts llama.cpp treats as end-of-generation (and forces to control type), load() "special_eog_ids".
    private static readonly HashSet<string> EogTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ];
    private static readonly string[] EotTexts = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"];
    private static readonly string[] FimPreTexts = ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"];
    private static readonly string[] FimSufTexts = ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"];
    private static readonly string[] FimMidTexts = ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"];
    private static readonly string[] FimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
    private static readonly string[] FimRepTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
    private static readonly string[] FimSepTexts = ["<|file_sep|>"];

    public static Vocabulary Build(TokenizerDefinition def, PreTokenizerSettings? pre)
    {
        string src = def.Source;
        int n = def.Tokens.Length;
        if (n == 0) throw new InvalidDataException($"{src}: tokenizer.ggml.tokens is empty");
        if (def.Scores is not null && def.Scores.Length < n)
            throw new InvalidDataException($"{src}: tokenizer.ggml.scores has {def.Scores.Length} entries for {n} tokens");
        if (def.TokenTypes is not null && def.TokenTypes.Length < n)
            throw new InvalidDataException($"{src}: tokenizer.ggml.token_type has {def.TokenTypes.Length} entries for {n} tokens");

        VocabularyKind kind;
        int bos, eos, unk, sep = -1, pad = -1, mask = -1;
        bool addBos, addEos = false, addSep = false, addSpacePrefix;
        switch (def.Model)
        {
            case "llama": kind = VocabularyKind.SentencePiece; bos = 1; eos = 2; unk = 0; addSpacePrefix = true; addBos = true; break;
            case "bert": kind = VocabularyKind.WordPiece; bos = 101; eos = -1; unk = 100; sep = 102; pad = 0; mask = 103; addSep = true; addSpacePrefix = false; addBos = true; break;
            case "gpt2":
                kind = VocabularyKind.BytePair; bos = 11; eos = 11; unk = -1; addSpacePrefix = false;
                addBos = pre?.AddBosDefault ?? false;
                if (pre?.NoBosToken == true) bos = -1;
                break;
            default:
                throw new NotSupportedException($"{src}: tokenizer model '{def.Model}' is not supported (supported: gpt2, llama, bert)");
        }
        if (def.AddSpacePrefix is bool asp) addSpacePrefix = asp;

        var texts = new string[n];
        var attrs = new TokenAttributes[n];
        var scores = new float[n];
        var textToId = new Dictionary<string, int>(n, StringComparer.Ordinal);
        int maxLen = 0;
        for (int i = 0; i < n; i++)
        {
            string text = string.IsNullOrEmpty(def.Tokens[i]) ? $"[EMPTY_{i}]" : def.Tokens[i];
            if (!textToId.TryAdd(text, i))
                throw new InvalidDataException($"{src}: duplicate token in vocabulary: '{text}' has ids {textToId[text]} and {i}");
            texts[i] = text;
            maxLen = Math.Max(maxLen, Encoding.UTF8.GetByteCount(text));
            scores[i] = def.Scores?[i] ?? 0f;
            attrs[i] = def.TokenTypes is null ? TokenAttributes.Normal : def.TokenTypes[i] switch
            {
                1 => TokenAttributes.Normal,
                2 => TokenAttributes.Unknown,
                3 => TokenAttributes.Control,
                4 => TokenAttributes.UserDefined,
                5 => TokenAttributes.Unused,
                6 => TokenAttributes.Byte,
                _ => TokenAttributes.Undefined,
            };
        }

        int Resolve(int defaultId, int? key) =>
            key is int k && k >= 0 && k < n ? k : (defaultId >= 0 && defaultId < n ? defaultId : -1);
        bos = Resolve(bos, def.BosId);
        eos = Resolve(eos, def.EosId);
        int eot = Resolve(-1, def.EotId), eom = Resolve(-1, def.EomId);
        unk = Resolve(unk, def.UnkId);
        sep = Resolve(sep, def.SepId);
        pad = Resolve(pad, def.PadId);
        mask = Resolve(mask, def.MaskId);
        int fimPre = Resolve(-1, def.FimPreId), fimSuf = Resolve(-1, def.FimSufId), fimMid = Resolve(-1, def.FimMidId);
        int fimPad = Resolve(-1, def.FimPadId), fimRep = Resolve(-1, def.FimRepId), fimSep = Resolve(-1, def.FimSepId);
        if (def.AddBos is bool ab) addBos = ab;
        if (def.AddEos is bool ae) addEos = ae;
        if (addBos && bos < 0) throw new InvalidDataException($"{src}: tokenizer.ggml.add_bos_token is true, but tokenizer.ggml.bos_token_id is not set");
        if (addEos && eos < 0) throw new InvalidDataException($"{src}: tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set");

        // Auto-detection by text. llama.cpp walks an unordered_map here, so when a vocabulary holds two
        // candidates for the same role its choice is hash-order dependent; we take the lowest id.
        void Detect(ref int id, string[] candidates)
        {
            if (id >= 0) return;
            foreach (string c in candidates)
                if (textToId.TryGetValue(c, out int found) && (id < 0 || found < id)) id = found;
            if (id >= 0) attrs[id] |= TokenAttributes.Control;
        }
        Detect(ref eot, EotTexts);
        Detect(ref fimPre, FimPreTexts);
        Detect(ref fimSuf, FimSufTexts);
        Detect(ref fimMid, FimMidTexts);
        Detect(ref fimPad, FimPadTexts);
        Detect(ref fimRep, FimRepTexts);
        Detect(ref fimSep, FimSepTexts);
        for (int i = 0; i < n; i++)
            if ((attrs[i] & TokenAttributes.Control) != 0 && texts[i].Contains("unused", StringComparison.Ordinal))
                attrs[i] |= TokenAttributes.Unused;

        var eog = new SortedSet<int>();
        foreach (int id in (int[])[fimPad, fimRep, fimSep]) if (id >= 0) eog.Add(id);
        foreach (string text in EogTexts)
        {
            if (!textToId.TryGetValue(text, out int id)) continue;
            eog.Add(id);
            attrs[id] |= TokenAttributes.Control;
        }
        // gpt-oss: these structural tokens are always rendered (llama.cpp makes them user-defined).
        foreach (string text in (string[])["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"])
            if (textToId.TryGetValue(text, out int id)) attrs[id] = TokenAttributes.UserDefined;
        foreach (int id in (int[])[eos, eot, eom]) if (id >= 0) eog.Add(id);
        // o200k_harmony / solar-open: "<|end|>" ends a message, not the generation.
        int endId = -1; bool hasReturn = false, hasCall = false, hasFlush = false;
        foreach (int id in eog)
        {
            switch (texts[id])
            {
                case "<|return|>": hasReturn = true; break;
                case "<|call|>" or "<|calls|>": hasCall = true; break;
                case "<|flush|>": hasFlush = true; break;
                case "<|end|>": endId = id; break;
            }
        }
        if (endId >= 0 && ((hasReturn && hasCall) || (hasCall && hasFlush)))
        {
            eog.Remove(endId);
            attrs[endId] = TokenAttributes.UserDefined;
        }

        // Special tokens, longest first (llama.cpp sorts by byte length; ties keep id order here).
        var special = new List<int>();
        for (int i = 0; i < n; i++)
            if ((attrs[i] & (TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown)) != 0) special.Add(i);
        var specialByLength = special.OrderByDescending(i => Encoding.UTF8.GetByteCount(texts[i])).ThenBy(i => i).ToArray();

        // Per-model attributes (llama.cpp: "phi-3"/"phi3" in general.name strips whitespace after special tokens).
        string name = (def.GeneralName ?? "").ToLowerInvariant();
        if (name.Contains("phi-3") || name.Contains("phi3"))
        {
            foreach (int id in specialByLength) attrs[id] |= TokenAttributes.RStrip;
            if (textToId.TryGetValue("</s>", out int s)) attrs[s] |= TokenAttributes.RStrip;
            foreach (string t in (string[])["<unk>", "<s>", "<|endoftext|>"])
                if (textToId.TryGetValue(t, out int id)) attrs[id] &= ~TokenAttributes.RStrip;
        }

        bool lowercase = def.Lowercase ?? true; // llama.cpp's normalizer_options default (used by WordPiece only)
        var vocabulary = new Vocabulary
        {
            Source = src, Kind = kind, Model = def.Model, Texts = texts, Scores = scores, Attributes = attrs,
            TextToId = textToId, SpecialTokensLongestFirst = specialByLength, EndOfGeneration = eog.ToArray(),
            MaxTokenLength = maxLen, Bos = bos, Eos = eos, Eot = eot, Unk = unk, Sep = sep, Pad = pad,
            AddBos = addBos, AddEos = addEos, AddSep = addSep, AddSpacePrefix = addSpacePrefix,
            Lowercase = lowercase, StripAccents = def.StripAccents ?? lowercase,
        };
        vocabulary.FinishConstruction();
        return vocabulary;
    }

    /// <summary>The bytes a token renders to (llama.cpp token_to_piece with special = true).</summary>
    private static byte[] TokenPiece(VocabularyKind kind, string text, TokenAttributes attr)
    {
        if ((attr & (TokenAttributes.Control | TokenAttributes.Unknown | TokenAttributes.UserDefined)) != 0)
            return Encoding.UTF8.GetBytes(text);
        if ((attr & TokenAttributes.Normal) != 0)
            return kind == VocabularyKind.BytePair ? Gpt2ByteMapping.Decode(text) : Encoding.UTF8.GetBytes(text.Replace('\u2581', ' '));
        if ((attr & TokenAttributes.Byte) != 0 && text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal)
            && byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
            return [b];
        return []; // unused / undefined tokens render as nothing, as in llama.cpp
    }
}
