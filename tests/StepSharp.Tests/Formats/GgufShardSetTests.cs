using StepSharp.Formats;
using StepSharp.Tensors;

namespace StepSharp.Tests.Formats;

public sealed class GgufShardSetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stepsharp-shards-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Writes a 3-way split the way llama-gguf-split lays it out (spec §1.5): metadata in shard 1, split keys everywhere.</summary>
    private string WriteSplit(int count = 3, Action<int, GgufWriter>? tweak = null, int? tensorsCountKey = null)
    {
        for (int no = 0; no < count; no++)
        {
            var w = new GgufWriter();
            if (no == 0)
                w.Add("general.architecture", "test");
            w.Add(GgufShardSet.SplitNoKey, (ushort)no).Add(GgufShardSet.SplitCountKey, (ushort)count);
            if (no == 0)
                w.Add(GgufShardSet.SplitTensorsCountKey, tensorsCountKey ?? 2 * count);
            for (int t = 0; t < 2; t++)
                w.AddTensor($"t{no}.{t}", [2], [no * 10 + t, -(no * 10 + t)]);
            tweak?.Invoke(no, w);
            File.WriteAllBytes(ShardPath(no, count), w.ToArray());
        }
        return ShardPath(1, count); // any shard opens the whole set
    }

    private string ShardPath(int no, int count) => Path.Combine(_dir, $"model-{no + 1:D5}-of-{count:D5}.gguf");

    [Fact]
    public void OpensEveryShardAndFindsEachTensorInItsOwn()
    {
        using var set = GgufShardSet.Open(WriteSplit());
        Assert.Equal(3, set.Shards.Count);
        Assert.Equal(6, set.Tensors.Count);
        Assert.Equal("test", set.Metadata.GetString("general.architecture"));
        for (int no = 0; no < 3; no++)
        {
            for (int t = 0; t < 2; t++)
            {
                TensorView v = set.GetTensor($"t{no}.{t}");
                Assert.Equal([no * 10f + t, -(no * 10f + t)], v.ToFloatArray());
                Assert.Same(set.Shards[no], set.ShardOf($"t{no}.{t}"));
            }
        }
        Assert.False(set.HasTensor("absent"));
        Assert.Contains("not found", Assert.Throws<GgufFormatException>(() => set.GetTensor("absent")).Message);
    }

    [Fact]
    public void AnUnsplitFileIsASetOfOne()
    {
        string path = Path.Combine(_dir, "plain.gguf");
        File.WriteAllBytes(path, GgufFileTests.SpecExampleFile());
        using var set = GgufShardSet.Open(path);
        Assert.Single(set.Shards);
        Assert.Equal([0.5f], set.GetTensor("u").ToFloatArray());
    }

    [Fact]
    public void AMissingShardIsNamed()
    {
        string path = WriteSplit();
        File.Delete(ShardPath(2, 3));
        var e = Assert.Throws<GgufFormatException>(() => GgufShardSet.Open(path));
        Assert.Contains("model-00003-of-00003.gguf", e.Message);
        Assert.Contains("shard 3 of 3 is missing", e.Message);
    }

    [Fact]
    public void InconsistentSplitsAreRejected()
    {
        var e = Assert.Throws<GgufFormatException>(() => GgufShardSet.Open(WriteSplit(tensorsCountKey: 7)));
        Assert.Contains("split.tensors.count is 7", e.Message);

        e = Assert.Throws<GgufFormatException>(() => GgufShardSet.Open(WriteSplit(tweak: (no, w) =>
        {
            if (no == 2) w.AddTensor("t0.0", [1], [1f]);
        })));
        Assert.Contains("tensor 't0.0' is also in shard", e.Message);

        // A shard whose split.no disagrees with its file name (shard 2 written as number 0).
        var w2 = new GgufWriter().Add(GgufShardSet.SplitNoKey, (ushort)0).Add(GgufShardSet.SplitCountKey, (ushort)3);
        WriteSplit();
        File.WriteAllBytes(ShardPath(1, 3), w2.ToArray());
        e = Assert.Throws<GgufFormatException>(() => GgufShardSet.Open(ShardPath(0, 3)));
        Assert.Contains("split.no is 0", e.Message);
        Assert.Contains("model-00002-of-00003.gguf", e.Message);
    }
}
