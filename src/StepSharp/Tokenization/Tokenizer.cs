using System.Text;

namespace StepSharp.Tokenization;

/// <summary>
/// llama.cpp-compatible tokenizer over a <see cref="Vocabulary"/> (llama_vocab::impl::tokenize and
/// detokenize): special tokens are cut out first, then each raw-text fragment goes through the model's
/// algorithm (SentencePiece, byte-level BPE or WordPiece). Instances are immutable and thread-safe.
/// </summary>
internal sealed class Tokenizer : ITokenizer
{
    private readonly Vocabulary _vocab;
    private readonly BytePairEncoder? _bpe;
    private readonly SentencePieceEncoder? _spm;
    private readonly WordPieceEncoder? _wpm;
    private readonly Dictionary<string, int> _specialByText = new(StringComparer.Ordinal);

    public Tokenizer(TokenizerDefinition definition)
    {
        PreTokenizerSettings? pre = null;
        if (definition.Model == "gpt2")
        {
            pre = PreTokenizerCatalog.Get(definition.Pre, definition.Source);
            if (definition.Merges is null)
                throw new InvalidDataException($"{definition.Source}: cannot find tokenizer merges (tokenizer.ggml.merges) for a BPE vocabulary");
        }
        _vocab = Vocabulary.Build(definition, pre);
        switch (_vocab.Kind)
        {
            case VocabularyKind.BytePair:
                string[] regexes = definition.PreTokenizerRegexes ?? pre!.Regexes;
                var splitter = definition.NoPreTokenizerSplit ? null : new RegexPreTokenizer(regexes);
                _bpe = new BytePairEncoder(_vocab, definition.Merges!, splitter, definition.IgnoreMerges ?? pre!.IgnoreMerges);
                break;
            case VocabularyKind.SentencePiece: _spm = new SentencePieceEncoder(_vocab); break;
            default: _wpm = new WordPieceEncoder(_vocab); break;
        }
        foreach (int id in _vocab.SpecialTokensLongestFirst) _specialByText.TryAdd(_vocab.Texts[id], id);
        EndOfGenerationIds = Array.AsReadOnly(_vocab.EndOfGeneration);
    }

    public int VocabSize => _vocab.Count;
    public int BosId => _vocab.Bos;
    public int EosId => _vocab.Eos;
    public IReadOnlyList<int> EndOfGenerationIds { get; }
    public bool AddBos => _vocab.AddBos;
    public bool AddEos => _vocab.AddEos;
    public bool AddSpacePrefix => _vocab.AddSpacePrefix;

    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>();
        var fragments = SpecialTokenSplitter.Split(_vocab, text, parseSpecial);
        switch (_vocab.Kind)
        {
            case VocabularyKind.SentencePiece:
            {
                if (addSpecial && _vocab.AddBos) output.Add(_vocab.Bos);
                bool prevSpecial = true; // a leading space goes in front of the text and after each special token
                foreach (var f in fragments)
                {
                    if (f.IsToken) { output.Add(f.Token); prevSpecial = true; continue; }
                    string piece = text.Substring(f.Start, f.Length);
                    if (_vocab.AddSpacePrefix && prevSpecial) piece = " " + piece;
                    _spm!.Encode(piece.Replace(' ', '\u2581'), output);
                    prevSpecial = false;
                }
                if (addSpecial && _vocab.AddEos) output.Add(_vocab.Eos);
                break;
            }
            case VocabularyKind.BytePair:
                if (addSpecial && _vocab.AddBos) output.Add(_vocab.Bos);
                foreach (var f in fragments)
                {
                    if (f.IsToken) output.Add(f.Token);
                    else _bpe!.Encode(text.Substring(f.Start, f.Length), output);
                }
                if (addSpecial && _vocab.AddEos) output.Add(_vocab.Eos);
                break;
            default:
                if (addSpecial) output.Add(_vocab.Bos >= 0 ? _vocab.Bos : throw new InvalidOperationException($"{_vocab.Source}: no CLS/BOS token"));
                foreach (var f in fragments)
                {
                    if (f.IsToken) output.Add(f.Token);
                    else _wpm!.Encode(text.Substring(f.Start, f.Length), output);
                }
                if (addSpecial) output.Add(_vocab.Sep >= 0 ? _vocab.Sep : throw new InvalidOperationException($"{_vocab.Source}: no SEP token"));
                break;
        }
        return output.ToArray();
    }

    /// <summary>
    /// llama.cpp detokenize without clean_up_tokenization_spaces (that pass is lossy, and llama.cpp's own
    /// generation output, token_to_piece per token, does not apply it either). The leading space that
    /// SentencePiece encoding adds is removed from the first token that renders anything; unlike llama.cpp,
    /// a skipped BOS does not use up that removal, so Decode(Encode(s), skipSpecial: true) == s.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false)
    {
        var bytes = new List<byte>(ids.Length * 4);
        bool removeSpace = _vocab.AddSpacePrefix;
        foreach (int id in ids)
        {
            var piece = PieceFor(id, skipSpecial);
            if (piece.IsEmpty) continue;
            if (removeSpace && piece[0] == (byte)' ') piece = piece[1..];
            removeSpace = false;
            foreach (byte b in piece) bytes.Add(b);
        }
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>What a token renders to in output text: nothing for control/unknown tokens when skipping specials.</summary>
    internal ReadOnlySpan<byte> PieceFor(int id, bool skipSpecial)
    {
        CheckId(id);
        if (skipSpecial && (_vocab.Attributes[id] & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0) return [];
        return _vocab.Piece(id);
    }

    public ReadOnlySpan<byte> TokenBytes(int id) { CheckId(id); return _vocab.Piece(id); }

    public string TokenText(int id) { CheckId(id); return _vocab.Texts[id]; }

    public int? TryGetSpecialId(string text) => _specialByText.TryGetValue(text, out int id) ? id : null;

    public bool IsControl(int id) { CheckId(id); return (_vocab.Attributes[id] & TokenAttributes.Control) != 0; }

    private void CheckId(int id)
    {
        if ((uint)id >= (uint)_vocab.Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id outside the vocabulary of {_vocab.Count} tokens ({_vocab.Source})");
    }
}
