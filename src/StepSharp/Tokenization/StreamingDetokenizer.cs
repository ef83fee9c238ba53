using System.Text;

namespace StepSharp.Tokenization;

/// <summary>
/// Turns a stream of token ids into text without ever emitting half a character: bytes of an
/// incomplete UTF-8 sequence (e.g. an emoji spread over byte tokens) are held until the sequence
/// completes. The concatenated output equals <see cref="ITokenizer.Decode"/> of all pushed ids
/// (with <c>stripLeadingSpace</c> matching Decode's removal of the SentencePiece leading space).
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly ITokenizer _tokenizer;
    private readonly bool _skipSpecial;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private char[] _chars = new char[64];
    private bool _stripNextSpace;

    /// <param name="stripLeadingSpace">
    /// Drop the leading space of the first token when the vocabulary adds one while encoding (use it when
    /// the stream is a whole text; leave it off for tokens generated after a prompt).
    /// </param>
    public StreamingDetokenizer(ITokenizer tokenizer, bool skipSpecial = false, bool stripLeadingSpace = false)
    {
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _skipSpecial = skipSpecial;
        _stripNextSpace = stripLeadingSpace && tokenizer.AddSpacePrefix;
    }

    /// <summary>Adds one token; returns the text completed by it (may be empty).</summary>
    public string Push(int tokenId)
    {
        ReadOnlySpan<byte> piece = _tokenizer is Tokenizer own ? own.PieceFor(tokenId, _skipSpecial)
            : _skipSpecial && _tokenizer.IsControl(tokenId) ? [] : _tokenizer.TokenBytes(tokenId);
        if (piece.IsEmpty) return string.Empty;
        if (_stripNextSpace && piece[0] == (byte)' ') piece = piece[1..];
        _stripNextSpace = false;
        return DecodeBytes(piece, flush: false);
    }

    /// <summary>Ends the stream: returns what is still held (incomplete sequences as U+FFFD).</summary>
    public string Flush() => DecodeBytes([], flush: true);

    private string DecodeBytes(ReadOnlySpan<byte> bytes, bool flush)
    {
        int needed = _decoder.GetCharCount(bytes, flush: false) + 4;
        if (_chars.Length < needed) _chars = new char[Math.Max(needed, _chars.Length * 2)];
        int n = _decoder.GetChars(bytes, _chars, flush);
        return n == 0 ? string.Empty : new string(_chars, 0, n);
    }
}
