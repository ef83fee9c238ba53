using System.Globalization;
using System.Text.RegularExpressions;
using StepSharp.Tensors;

namespace StepSharp.Formats;

/// <summary>
/// A model stored as one GGUF file or split into shards named <c>&lt;name&gt;-00001-of-0000N.gguf</c>
/// (spec gguf-format.md §1.5 "Split models"): every shard is a complete GGUF file with its own data
/// section; the first carries the model metadata and each one carries split.no (u16), split.count (u16)
/// and, in the first, split.tensors.count (i32). Tensor lookups go to the shard that holds the tensor.
/// </summary>
public sealed partial class GgufShardSet : IDisposable
{
    public const string SplitNoKey = "split.no", SplitCountKey = "split.count", SplitTensorsCountKey = "split.tensors.count";

    private readonly GgufFile[] _shards;
    private readonly Dictionary<string, GgufFile> _owner;
    private readonly GgufTensorInfo[] _tensors;

    private GgufShardSet(GgufFile[] shards)
    {
        _shards = shards;
        _owner = new Dictionary<string, GgufFile>(StringComparer.Ordinal);
        var all = new List<GgufTensorInfo>();
        foreach (GgufFile shard in shards)
        {
            foreach (GgufTensorInfo t in shard.Tensors)
            {
                if (!_owner.TryAdd(t.Name, shard))
                    throw new GgufFormatException(shard.Path, $"tensor '{t.Name}' is also in shard {_owner[t.Name].Path}");
                all.Add(t);
            }
        }
        _tensors = all.ToArray();
    }

    /// <summary>
    /// Opens a single GGUF file, or, when <paramref name="path"/> names any shard of a split model, every
    /// shard of it (all must be present and agree on split.count).
    /// </summary>
    public static GgufShardSet Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Match m = ShardName().Match(System.IO.Path.GetFileName(path));
        if (!m.Success)
            return new GgufShardSet([GgufFile.Open(path)]);

        int count = int.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture);
        if (count < 1)
            throw new GgufFormatException(path, "split file name says the model has 0 shards");
        string directory = System.IO.Path.GetDirectoryName(path) ?? "";
        string prefix = m.Groups["prefix"].Value;
        var shards = new List<GgufFile>(count);
        try
        {
            for (int no = 0; no < count; no++)
            {
                string shardPath = System.IO.Path.Combine(directory, $"{prefix}-{no + 1:D5}-of-{count:D5}.gguf");
                if (!File.Exists(shardPath))
                    throw new GgufFormatException(shardPath, $"shard {no + 1} of {count} is missing (opened from {path})");
                GgufFile shard = GgufFile.Open(shardPath);
                shards.Add(shard);
                CheckSplitKeys(shard, no, count);
            }
            var set = new GgufShardSet(shards.ToArray());
            if (shards[0].Metadata.TryGetInt64(SplitTensorsCountKey, out long expected) && expected != set._tensors.Length)
                throw new GgufFormatException(shards[0].Path, $"{SplitTensorsCountKey} is {expected} but the {count} shards hold {set._tensors.Length} tensors");
            return set;
        }
        catch
        {
            foreach (GgufFile shard in shards)
                shard.Dispose();
            throw;
        }
    }

    /// <summary>The shards in order (one element for an unsplit file).</summary>
    public IReadOnlyList<GgufFile> Shards => _shards;

    /// <summary>The model metadata: the first shard's.</summary>
    public GgufMetadata Metadata => _shards[0].Metadata;

    /// <summary>Every tensor of every shard (offsets are relative to their own shard's data section).</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    public string Path => _shards[0].Path;

    public bool HasTensor(string name) => _owner.ContainsKey(name);

    public TensorView GetTensor(string name) =>
        TryGetTensor(name) ?? throw new GgufFormatException(Path, $"tensor '{name}' not found in any of the {_shards.Length} shard(s)");

    public TensorView? TryGetTensor(string name) => _owner.TryGetValue(name, out GgufFile? shard) ? shard.GetTensor(name) : null;

    /// <summary>The shard that holds <paramref name="name"/>, or null.</summary>
    public GgufFile? ShardOf(string name) => _owner.GetValueOrDefault(name);

    public void Dispose()
    {
        foreach (GgufFile shard in _shards)
            shard.Dispose();
    }

    private static void CheckSplitKeys(GgufFile shard, int no, int count)
    {
        // Shards written by llama-gguf-split always carry both keys; a missing key is tolerated only
        // for a one-shard "split".
        if (shard.Metadata.TryGetInt64(SplitNoKey, out long fileNo) && fileNo != no)
            throw new GgufFormatException(shard.Path, $"{SplitNoKey} is {fileNo} but the file name makes it shard index {no}");
        if (shard.Metadata.TryGetInt64(SplitCountKey, out long fileCount) && fileCount != count)
            throw new GgufFormatException(shard.Path, $"{SplitCountKey} is {fileCount} but the file name says {count} shards");
        if (count > 1 && !shard.Metadata.ContainsKey(SplitCountKey))
            throw new GgufFormatException(shard.Path, $"shard of a {count}-way split has no {SplitCountKey} key");
    }

    [GeneratedRegex(@"^(?<prefix>.+)-(?<no>\d{5})-of-(?<count>\d{5})\.gguf$", RegexOptions.CultureInvariant)]
    private static partial Regex ShardName();
}
