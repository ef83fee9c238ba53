namespace StepSharp.Tokenization;

/// <summary>
/// The merge ranks of a byte-level BPE vocabulary, interned to integers so the merge loop never builds
/// strings. A "piece" is any string that can be a symbol during merging: the 256 single byte characters,
/// both sides of every merge and every merge result. llama.cpp looks merges up by the (left, right)
/// strings (find_bpe_rank); interning gives the same answers.
/// </summary>
internal sealed class BpeMergeTable
{
    private readonly Dictionary<string, int> _pieceIds = new(StringComparer.Ordinal);
    private readonly List<string> _pieces = [];
    private readonly Dictionary<long, (int Rank, int Result)> _merges = new();

    /// <summary>Piece id of each byte's single-character form.</summary>
    public int[] BytePiece { get; } = new int[256];

    /// <summary>Token id of each piece, or -1 when the piece is not a token.</summary>
    public int[] PieceToken { get; }

    public BpeMergeTable(string[] merges, Vocabulary vocab)
    {
        for (int b = 0; b < 256; b++) BytePiece[b] = Intern(Gpt2ByteMapping.ByteToChar((byte)b).ToString());
        for (int rank = 0; rank < merges.Length; rank++)
        {
            string line = merges[rank];
            // llama.cpp splits at the first space from index 1 on; a line without one becomes ("", "").
            int space = line.Length > 1 ? line.IndexOf(' ', 1) : -1;
            string left = space < 0 ? "" : line[..space];
            string right = space < 0 ? "" : line[(space + 1)..];
            int l = Intern(left), r = Intern(right);
            int result = Intern(left + right);
            _merges.TryAdd(Key(l, r), (rank, result)); // the first occurrence wins, as unordered_map::emplace
        }
        PieceToken = new int[_pieces.Count];
        for (int p = 0; p < _pieces.Count; p++) PieceToken[p] = vocab.Find(_pieces[p]);
    }

    public string PieceText(int piece) => _pieces[piece];

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private int Intern(string s)
    {
        if (_pieceIds.TryGetValue(s, out int id)) return id;
        id = _pieces.Count;
        _pieces.Add(s);
        _pieceIds.Add(s, id);
        return id;
    }

    /// <summary>Rank and resulting piece of merging two pieces, or false when no merge exists.</summary>
    public bool TryGetMerge(int left, int right, out int rank, out int result)
    {
        if (_merges.TryGetValue(Key(left, right), out var m)) { rank = m.Rank; result = m.Result; return true; }
        rank = 0; result = -1;
        return false;
    }
}
