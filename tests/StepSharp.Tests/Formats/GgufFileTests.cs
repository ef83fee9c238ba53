using System.Text.Json;
using StepSharp.Formats;
using StepSharp.Tensors;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Formats;

public class GgufFileTests
{
    /// <summary>The 320-byte file of spec gguf-format.md §1.5 (written by gguf-py, accepted by gguf.cpp), assembled byte by byte.</summary>
    internal static byte[] SpecExampleFile()
    {
        var b = new GgufBytes()
            .Header(3, 2, 4)
            .Str("general.architecture").U32(8).Str("tiny")
            .Str("tiny.n").U32(4).U32(7)
            .Str("tiny.flag").U32(7).U8(1)
            .Str("tiny.words").U32(9).U32(8).U64(2).Str("ab").Str("c")
            .TensorInfo("t", 0, 0, 3, 2)
            .TensorInfo("u", 0, 0x20, 1)
            .PadTo(32);
        Assert.Equal(0x100, b.Position);
        foreach (float v in new float[] { 1, 2, 3, 4, 5, 6 })
            b.F32(v);
        b.PadTo(32).F32(0.5f).PadTo(32);
        return b.ToArray();
    }

    [Fact]
    public void SpecWorkedExampleParsesEveryField()
    {
        byte[] bytes = SpecExampleFile();
        Assert.Equal(320, bytes.Length);
        using var file = GgufFile.FromBytes(bytes, "spec-example.gguf");

        Assert.Equal(3u, file.Version);
        Assert.Equal(32, file.Alignment);
        Assert.Equal(0x100, file.DataOffset);
        Assert.Equal(320, file.FileLength);
        Assert.Equal(["general.architecture", "tiny.n", "tiny.flag", "tiny.words"], file.Metadata.Keys.ToArray());
        Assert.Equal("tiny", file.Metadata.GetString("general.architecture"));
        Assert.Equal(GgufValueType.UInt32, file.Metadata["tiny.n"].Type);
        Assert.Equal(7, file.Metadata.GetRequiredInt64("tiny.n"));
        Assert.True(file.Metadata.GetBool("tiny.flag", false));
        Assert.Equal(["ab", "c"], file.Metadata.GetStringArray("tiny.words")!);

        Assert.Equal(2, file.Tensors.Count);
        TensorView t = file.GetTensor("t");
        Assert.Equal(GgmlType.F32, t.Type);
        Assert.Equal([3L, 2L], t.Shape);
        Assert.Equal(3, t.Ne0);
        Assert.Equal(2, t.RowCount);
        Assert.Equal(12, t.RowByteLength);
        Assert.Equal([1f, 2, 3, 4, 5, 6], t.ToFloatArray());
        var row = new float[3];
        t.DequantizeRow(1, row);
        Assert.Equal([4f, 5, 6], row);
        Assert.Equal([0.5f], file.GetTensor("u").ToFloatArray());
        Assert.Equal(0x20, file.Tensors[1].Offset);
    }

    [Fact]
    public void ZeroDimensionalTensorIsASingleElement()
    {
        // n_dims = 0: missing dims count as 1 (spec §1.3), so the tensor holds one value.
        byte[] bytes = new GgufBytes().Header(2, 1, 0).Str("scalar").U32(0).U32(0).U64(0).PadTo(32).F32(2.5f).PadTo(32).ToArray();
        using var file = GgufFile.FromBytes(bytes, "scalar.gguf");
        Assert.Equal(2u, file.Version);
        TensorView t = file.GetTensor("scalar");
        Assert.Equal([1L], t.Shape);
        Assert.Equal([2.5f], t.ToFloatArray());
    }

    [Fact]
    public void MissingTensorErrorNamesFileAndTensor()
    {
        using var file = GgufFile.FromBytes(SpecExampleFile(), "spec-example.gguf");
        Assert.False(file.HasTensor("nope"));
        Assert.Null(file.TryGetTensor("nope"));
        var e = Assert.Throws<GgufFormatException>(() => file.GetTensor("nope"));
        Assert.Contains("spec-example.gguf", e.Message);
        Assert.Contains("tensor 'nope' not found", e.Message);
    }

    [Fact]
    public void MetadataIsAReadOnlyDictionaryInFileOrder()
    {
        using var file = GgufFile.FromBytes(SpecExampleFile(), "spec-example.gguf");
        IReadOnlyDictionary<string, GgufValue> m = file.Metadata;
        Assert.Equal(4, m.Count);
        Assert.Equal(["general.architecture", "tiny.n", "tiny.flag", "tiny.words"], m.Select(kv => kv.Key));
        Assert.Equal([GgufValueType.String, GgufValueType.UInt32, GgufValueType.Bool, GgufValueType.Array], m.Values.Select(v => v.Type));
        Assert.True(m.ContainsKey("tiny.flag"));
        Assert.False(m.TryGetValue("nope", out _));
        var e = Assert.Throws<KeyNotFoundException>(() => m["nope"]);
        Assert.Contains("spec-example.gguf", e.Message);
        Assert.Equal(GgufValueType.String, m["tiny.words"].ElementType);
        Assert.Equal(2, m["tiny.words"].Count);
    }

    [Fact]
    public void MetadataGettersRejectTheWrongKindNamingTheKey()
    {
        using var file = GgufFile.FromBytes(SpecExampleFile(), "spec-example.gguf");
        var m = file.Metadata;
        Assert.Null(m.GetString("absent"));
        Assert.Equal(42, m.GetInt64("absent", 42));
        Assert.Equal(7f, m.GetFloat32("tiny.n", 0)); // integers widen to float
        var e = Assert.Throws<GgufFormatException>(() => m.GetString("tiny.n"));
        Assert.Contains("'tiny.n'", e.Message);
        Assert.Throws<GgufFormatException>(() => m.GetRequiredInt64("general.architecture"));
        Assert.Throws<GgufFormatException>(() => m.GetRequiredString("absent"));
        Assert.Throws<GgufFormatException>(() => m.GetFloat32Array("tiny.words"));
    }

    public static TheoryData<string> TinyFiles() => new() { "step35-tiny-a-f32.gguf", "step35-tiny-a-q8_0.gguf", "step35-tiny-a-q4_k_m.gguf" };

    [Theory]
    [MemberData(nameof(TinyFiles))]
    public void TinyModelMatchesItsConfig(string fileName)
    {
        string path = TestData.Path("step35-tiny", fileName);
        using var config = JsonDocument.Parse(File.ReadAllText(TestData.Path("step35-tiny", "config.json")));
        using var summary = JsonDocument.Parse(File.ReadAllText(TestData.Path("step35-tiny", "summary.json")));
        JsonElement c = config.RootElement;
        using var file = GgufFile.Open(path);

        Assert.Equal(summary.RootElement.GetProperty("files").GetProperty(fileName).GetProperty("bytes").GetInt64(), file.FileLength);
        Assert.Equal(c.GetProperty("n_tensors").GetInt32(), file.Tensors.Count);
        Assert.Equal("step35", file.Metadata.GetString("general.architecture"));
        int hidden = c.GetProperty("hidden").GetInt32(), vocab = c.GetProperty("vocab").GetInt32();
        Assert.Equal(hidden, file.Metadata.GetRequiredInt64("step35.embedding_length"));
        Assert.Equal(c.GetProperty("block_count").GetInt32(), file.Metadata.GetRequiredInt64("step35.block_count"));
        Assert.Equal(c.GetProperty("n_head").EnumerateArray().Select(e => (long)e.GetInt32()), file.Metadata.GetInt64Array("step35.attention.head_count")!);
        Assert.Equal(c.GetProperty("is_swa").EnumerateArray().Select(e => e.GetBoolean()), file.Metadata.GetBoolArray("step35.attention.sliding_window_pattern")!);
        Assert.Equal(c.GetProperty("swiglu_clamp_exp").EnumerateArray().Select(e => e.GetSingle()), file.Metadata.GetFloat32Array("step35.swiglu_clamp_exp")!);
        Assert.Equal(vocab, file.Metadata.GetStringBytesArray("tokenizer.ggml.tokens")!.Length);
        Assert.Equal(c.GetProperty("n_merges").GetInt32(), file.Metadata.GetStringArray("tokenizer.ggml.merges")!.Length);
        Assert.Equal(506, file.Metadata.GetRequiredInt64("tokenizer.ggml.bos_token_id"));

        // Shapes in ggml order: ne0 first (spec §1.3), a [vocab, hidden] matrix is stored as [hidden, vocab].
        Assert.Equal([(long)hidden, vocab], file.GetTensor("token_embd.weight").Shape);
        Assert.Equal([(long)hidden, vocab], file.GetTensor("output.weight").Shape);
        Assert.Equal([(long)hidden], file.GetTensor("output_norm.weight").Shape);
        int experts = c.GetProperty("experts").GetInt32(), moeFf = c.GetProperty("moe_ff").GetInt32();
        Assert.Equal([(long)hidden, moeFf, experts], file.GetTensor("blk.1.ffn_gate_exps.weight").Shape);
        Assert.Equal([(long)moeFf, hidden, experts], file.GetTensor("blk.1.ffn_down_exps.weight").Shape);
        int headDim = c.GetProperty("head_dim").GetInt32();
        for (int layer = 0; layer < c.GetProperty("block_count").GetInt32(); layer++)
        {
            int heads = c.GetProperty("n_head")[layer].GetInt32();
            Assert.Equal([(long)hidden, heads * headDim], file.GetTensor($"blk.{layer}.attn_q.weight").Shape);
            Assert.Equal([(long)hidden, heads], file.GetTensor($"blk.{layer}.attn_gate.weight").Shape);
        }
        foreach (GgufTensorInfo t in file.Tensors)
        {
            Assert.Equal(0, t.Offset % file.Alignment);
            Assert.True(file.DataOffset + t.Offset + t.ByteLength <= file.FileLength);
        }
    }

    [Fact]
    public void TinyModelsShareNamesAndShapesAcrossQuantizations()
    {
        using var f32 = GgufFile.Open(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));
        foreach (string other in new[] { "step35-tiny-a-q8_0.gguf", "step35-tiny-a-q4_k_m.gguf" })
        {
            using var q = GgufFile.Open(TestData.Path("step35-tiny", other));
            Assert.Equal(f32.Tensors.Select(t => t.Name).Order(), q.Tensors.Select(t => t.Name).Order());
            foreach (GgufTensorInfo t in q.Tensors)
                Assert.Equal(f32.GetTensorInfo(t.Name).Shape, t.Shape);
        }
        Assert.All(f32.Tensors, t => Assert.Equal(GgmlType.F32, t.Type));
    }

    [Fact]
    public void OpenDoesNotReadTensorData()
    {
        // The header ends long before the data; corrupting every data byte must not matter to Open.
        string path = Path.Combine(Path.GetTempPath(), $"stepsharp-{Guid.NewGuid():N}.gguf");
        byte[] bytes = SpecExampleFile();
        Array.Fill(bytes, (byte)0xFF, 0x100, bytes.Length - 0x100);
        File.WriteAllBytes(path, bytes);
        try
        {
            using var file = GgufFile.Open(path);
            Assert.Equal(path, file.Path);
            Assert.True(float.IsNaN(file.GetTensor("u").ToFloatArray()[0]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadReadsTheSameBytesAsOpenMaps()
    {
        string path = Path.Combine(Path.GetTempPath(), $"stepsharp-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, SpecExampleFile());
        try
        {
            using var mapped = GgufFile.Open(path);
            using var read = GgufFile.Load(path);
            Assert.Equal(mapped.Tensors.Select(t => t.Name), read.Tensors.Select(t => t.Name));
            Assert.Equal(mapped.Metadata.Keys, read.Metadata.Keys);
            foreach (var t in mapped.Tensors)
                Assert.Equal(mapped.GetTensor(t.Name).ToFloatArray(), read.GetTensor(t.Name).ToFloatArray());
            Assert.Equal([1f, 2, 3, 4, 5, 6], read.GetTensor("t").ToFloatArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LoadOfATruncatedFileFailsNamingTheFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"stepsharp-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, SpecExampleFile()[..200]); // header intact, data cut off
        try
        {
            var e = Assert.Throws<GgufFormatException>(() => GgufFile.Load(path));
            Assert.Contains(path, e.Message);
            File.WriteAllBytes(path, new byte[10]);
            e = Assert.Throws<GgufFormatException>(() => GgufFile.Load(path));
            Assert.Contains("truncated", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void OpensA120GigabyteFileInWellUnderASecond()
    {
        // 900 Q4_K tensors of [8192, 28672] (132 MB each, 119 GB in all) and a 128k-token vocabulary, in a
        // sparse file: more bytes than this machine has RAM, yet Open must only touch the header (spec §1).
        const int tensors = 900, vocab = 128_000;
        const long ne0 = 8192, ne1 = 28672;
        long tensorBytes = ne0 / 256 * 144 * ne1;
        var header = new GgufBytes().Header(3, tensors, 2).Str("general.architecture").U32(8).Str("big")
            .Str("tokenizer.ggml.tokens").U32(9).U32(8).U64(vocab);
        for (int i = 0; i < vocab; i++)
            header.Str($"tok{i}");
        for (int t = 0; t < tensors; t++)
            header.TensorInfo($"blk.{t / 20}.w{t % 20}.weight", (uint)GgmlType.Q4_K, (ulong)(t * tensorBytes), (ulong)ne0, (ulong)ne1);
        byte[] headerBytes = header.PadTo(32).ToArray();
        long total = headerBytes.Length + tensors * tensorBytes;

        string path = Path.Combine(Path.GetTempPath(), $"stepsharp-sparse-{Guid.NewGuid():N}.gguf");
        try
        {
            using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(headerBytes);
                try
                {
                    stream.SetLength(total); // a hole: no disk blocks on Linux/macOS/NTFS-sparse
                }
                catch (IOException e)
                {
                    Assert.Skip($"cannot create a {total >> 30} GB sparse file here: {e.Message}");
                }
            }

            var watch = System.Diagnostics.Stopwatch.StartNew();
            using var file = GgufFile.Open(path);
            TimeSpan openTime = watch.Elapsed;
            Assert.Equal(total, file.FileLength);
            Assert.Equal(tensors, file.Tensors.Count);
            Assert.Equal(vocab, file.Metadata.GetStringBytesArray("tokenizer.ggml.tokens")!.Length);
            TensorView last = file.GetTensor($"blk.{(tensors - 1) / 20}.w{(tensors - 1) % 20}.weight");
            Assert.Equal(ne1, last.RowCount);
            var row = new float[ne0];
            last.DequantizeRow(ne1 - 1, row); // the very last bytes of the file: a hole, so zeros
            Assert.All(row, v => Assert.Equal(0f, v));
            Assert.True(openTime < TimeSpan.FromSeconds(1), $"opening took {openTime.TotalMilliseconds:F0} ms");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
