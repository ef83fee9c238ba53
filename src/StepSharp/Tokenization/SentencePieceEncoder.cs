using System.Text;

namespace StepSharp.Tokenization;

/// <summary>
/// SentencePiece-style BPE by token scores (llama.cpp llm_tokenizer_spm_session): start from single
/// characters, repeatedly merge the adjacent pair whose concatenation is the highest-scoring token
/// (ties: the leftmost), and spell out characters that never became tokens as &lt;0xXX&gt; byte tokens.
/// The caller has already replaced spaces with '▁' and added the leading space.
/// </summary>
internal sealed class SentencePieceEncoder(Vocabulary vocab)
{
    public void Encode(string text, List<int> output)
    {
        if (text.Length == 0) return;
        // Symbols are code points: [start, start+len) in UTF-16 units.
        int count = 0;
        var start = new int[text.Length];
        var len = new int[text.Length];
        for (int i = 0; i < text.Length;)
        {
            int l = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            start[count] = i; len[count] = l; count++;
            i += l;
        }
        var prev = new int[count];
        var next = new int[count];
        for (int i = 0; i < count; i++) { prev[i] = i - 1; next[i] = i + 1 < count ? i + 1 : -1; }

        var queue = new PriorityQueue<(int Left, int Right, int Size), (float Score, int Left)>(ScoreOrder.Instance);
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            int size = len[left] + len[right];
            int id = vocab.Find(text.AsSpan(start[left], size));
            if (id < 0) return;
            queue.Enqueue((left, right, size), (vocab.Scores[id], left));
        }
        for (int i = 1; i < count; i++) TryAdd(i - 1, i);

        while (queue.TryDequeue(out var bigram, out _))
        {
            int l = bigram.Left, r = bigram.Right;
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != bigram.Size) continue;
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            TryAdd(prev[l], l);
            TryAdd(l, next[l]);
        }

        Span<byte> bytes = stackalloc byte[4];
        for (int i = 0; i >= 0; i = next[i])
        {
            var symbol = text.AsSpan(start[i], len[i]);
            int id = vocab.Find(symbol);
            if (id >= 0) { output.Add(id); continue; }
            // A merged symbol is always a token, so only single characters get here (llama.cpp's
            // resegment() would also consult its rev_merge map, which cannot hold a single character).
            int n = Encoding.UTF8.GetBytes(symbol, bytes);
            for (int j = 0; j < n; j++)
            {
                int b = vocab.ByteToToken(bytes[j]);
                if (b >= 0) output.Add(b);
            }
        }
    }

    /// <summary>Highest score first; equal scores: leftmost first (llm_bigram_spm::comparator).</summary>
    private sealed class ScoreOrder : IComparer<(float Score, int Left)>
    {
        public static readonly ScoreOrder Instance = new();
        public int Compare((float Score, int Left) x, (float Score, int Left) y) =>
            x.Score != y.Score ? y.Score.CompareTo(x.Score) : x.Left.CompareTo(y.Left);
    }
}
