using System.Collections.Concurrent;
using System.Text;

namespace StepSharp.Tokenization;

/// <summary>
/// Byte-level BPE on one fragment of text (llama.cpp llm_tokenizer_bpe_session::tokenize): split into
/// words with the pre-tokenizer, then merge each word's byte symbols, always applying the lowest-ranked
/// merge first (ties: the leftmost pair).
/// </summary>
internal sealed class BytePairEncoder
{
    private const int MaxCachedWords = 65536;
    private const int MaxCachedWordLength = 256; // long runs (base64, minified code) are rare repeats

    private readonly Vocabulary _vocab;
    private readonly BpeMergeTable _merges;
    private readonly RegexPreTokenizer? _preTokenizer;
    private readonly bool _ignoreMerges;
    // Word → token ids; bounded by clearing it when full (words repeat a lot within one text).
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public BytePairEncoder(Vocabulary vocab, string[] merges, RegexPreTokenizer? preTokenizer, bool ignoreMerges)
    {
        _vocab = vocab;
        _merges = new BpeMergeTable(merges, vocab);
        _preTokenizer = preTokenizer;
        _ignoreMerges = ignoreMerges;
    }

    public void Encode(string fragment, List<int> output)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(fragment);
        if (_preTokenizer is null) { EncodeWord(utf8, output); return; }
        int[] cps = Codepoints.FromUtf8(utf8);
        int byteStart = 0, cpStart = 0;
        foreach (int cpCount in _preTokenizer.Split(cps))
        {
            int byteLen = 0;
            for (int i = cpStart; i < cpStart + cpCount; i++) byteLen += Utf8Length(cps[i]);
            EncodeWord(utf8.AsSpan(byteStart, byteLen), output);
            byteStart += byteLen;
            cpStart += cpCount;
        }
    }

    private static int Utf8Length(int cp) => cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

    private void EncodeWord(ReadOnlySpan<byte> word, List<int> output)
    {
        if (word.IsEmpty) return;
        string key = Gpt2ByteMapping.Encode(word);
        if (_ignoreMerges)
        {
            int whole = _vocab.Find(key);
            if (whole >= 0) { output.Add(whole); return; }
        }
        if (_cache.TryGetValue(key, out var cached)) { output.AddRange(cached); return; }
        var tokens = new List<int>(word.Length);
        Merge(word, tokens);
        if (key.Length <= MaxCachedWordLength)
        {
            if (_cache.Count >= MaxCachedWords) _cache.Clear();
            _cache.TryAdd(key, tokens.ToArray());
        }
        output.AddRange(tokens);
    }

    private void Merge(ReadOnlySpan<byte> word, List<int> output)
    {
        int n = word.Length;
        var piece = new int[n];
        var next = new int[n];
        var prev = new int[n];
        for (int i = 0; i < n; i++) { piece[i] = _merges.BytePiece[word[i]]; prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }

        var queue = new PriorityQueue<(int Left, int Right, int LeftPiece, int RightPiece, int Result), (int Rank, int Left)>(RankOrder.Instance);
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            if (_merges.TryGetMerge(piece[left], piece[right], out int rank, out int result))
                queue.Enqueue((left, right, piece[left], piece[right], result), (rank, left));
        }
        for (int i = 1; i < n; i++) TryAdd(i - 1, i);

        while (queue.TryDequeue(out var bigram, out _))
        {
            // Stale entries: a side was merged away (-1) or has grown since the pair was queued.
            if (piece[bigram.Left] != bigram.LeftPiece || piece[bigram.Right] != bigram.RightPiece) continue;
            piece[bigram.Left] = bigram.Result;
            piece[bigram.Right] = -1;
            next[bigram.Left] = next[bigram.Right];
            if (next[bigram.Right] >= 0) prev[next[bigram.Right]] = bigram.Left;
            TryAdd(prev[bigram.Left], bigram.Left);
            TryAdd(bigram.Left, next[bigram.Left]);
        }

        for (int i = 0; i >= 0; i = next[i])
        {
            int token = _merges.PieceToken[piece[i]];
            if (token >= 0) { output.Add(token); continue; }
            // Not a token: llama.cpp then looks up each byte of the symbol's text as a one-byte token,
            // which can only succeed for ASCII characters, and drops the rest.
            foreach (char c in _merges.PieceText(piece[i]))
            {
                if (c >= 0x80) continue;
                Span<char> one = [c];
                int id = _vocab.Find(one);
                if (id >= 0) output.Add(id);
            }
        }
    }

    private sealed class RankOrder : IComparer<(int Rank, int Left)>
    {
        public static readonly RankOrder Instance = new();
        public int Compare((int Rank, int Left) x, (int Rank, int Left) y) =>
            x.Rank != y.Rank ? x.Rank.CompareTo(y.Rank) : x.Left.CompareTo(y.Left);
    }
}
