namespace StepSharp.Tokenization;

/// <summary>A text ↔ token id mapping that reproduces llama.cpp's tokenization of the same vocabulary.</summary>
public interface ITokenizer
{
    int VocabSize { get; }
    /// <summary>Beginning-of-sequence id, or -1 if the vocabulary has none.</summary>
    int BosId { get; }
    /// <summary>End-of-sequence id, or -1 if the vocabulary has none.</summary>
    int EosId { get; }
    /// <summary>Tokens that end generation (eos, eot, im_end-like tokens, as llama.cpp's EOG set); the caller may add more.</summary>
    IReadOnlyList<int> EndOfGenerationIds { get; }
    /// <summary>Whether <see cref="Encode"/> with addSpecial adds BOS (tokenizer.ggml.add_bos_token, else llama.cpp's default).</summary>
    bool AddBos { get; }
    bool AddEos { get; }
    /// <summary>SentencePiece vocabularies put a space in front of the text; <see cref="Decode"/> removes it again.</summary>
    bool AddSpacePrefix { get; }

    /// <param name="addSpecial">Add BOS/EOS (or CLS/SEP) as the vocabulary asks.</param>
    /// <param name="parseSpecial">Recognise control tokens written in the text (user-defined tokens are always recognised).</param>
    int[] Encode(string text, bool addSpecial = true, bool parseSpecial = true);

    /// <summary>Text of the ids; invalid UTF-8 becomes U+FFFD. Control tokens render as their text unless skipSpecial.</summary>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false);

    /// <summary>The raw bytes this token decodes to; control tokens: their text.</summary>
    ReadOnlySpan<byte> TokenBytes(int id);

    /// <summary>The vocabulary string as stored.</summary>
    string TokenText(int id);

    /// <summary>Id of a control/user-defined/unknown token with exactly this text, e.g. "&lt;|im_end|&gt;".</summary>
    int? TryGetSpecialId(string text);

    bool IsControl(int id);
}
