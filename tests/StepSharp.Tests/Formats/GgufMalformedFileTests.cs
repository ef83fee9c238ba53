using System.Buffers.Binary;
using System.Text;
using StepSharp.Formats;
using StepSharp.Tensors;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Formats;

/// <summary>
/// Corrupted GGUF images (spec gguf-format.md §1 rules broken one at a time). Every one must fail fast
/// with a GgufFormatException that names the file and the problem: never another exception type, a hang
/// or an allocation sized by an untrusted count.
/// </summary>
public class GgufMalformedFileTests
{
    private const string Name = "corrupt.gguf";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>A small valid file: every interesting field sits at a place the cases can find by name.</summary>
    private static byte[] ValidFile() => new GgufWriter(alignment: 64)
        .Add("general.architecture", "test")
        .Add("test.count", 7u)
        .Add("test.words", new[] { "alpha", "beta", "gamma" })
        .Add("test.values", new uint[] { 1, 2, 3, 4 })
        .Add("test.flags", new[] { true, false })
        .Add("dup.k1", 1)
        .Add("dup.k2", 2)
        .AddTensor("first.weight", [8, 2], Enumerable.Range(0, 16).Select(i => (float)i).ToArray())
        .AddTensor("second.q8", GgmlType.Q8_0, [64, 2], new byte[4 * 34])
        .AddTensor("third.weight", [4], [1f, 2, 3, 4])
        .ToArray();

    /// <summary>Offset just past the GGUF string <paramref name="text"/> (its u64 length prefix included in the match, so a key is not found inside a longer one).</summary>
    private static int After(byte[] image, string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        var needle = new byte[8 + utf8.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(needle, (ulong)utf8.Length);
        utf8.CopyTo(needle, 8);
        int at = image.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, $"'{text}' not in the image");
        return at + needle.Length;
    }

    /// <summary>Offset of the length prefix of the string <paramref name="text"/>.</summary>
    private static int LengthPrefixOf(byte[] image, string text) => After(image, text) - Encoding.UTF8.GetByteCount(text) - 8;

    private static byte[] Patch(Action<byte[]> patch)
    {
        byte[] image = ValidFile();
        patch(image);
        return image;
    }

    private static void U32(byte[] b, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
    private static void U64(byte[] b, int at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);

    // Tensor-info field offsets, counted from the end of the name (spec §1.3): n_dims u32, dims u64[n], type u32, offset u64.
    private static int DimsOf(byte[] b, string tensor) => After(b, tensor) + 4;
    private static int TypeOf(byte[] b, string tensor, int nDims) => After(b, tensor) + 4 + 8 * nDims;
    private static int OffsetOf(byte[] b, string tensor, int nDims) => TypeOf(b, tensor, nDims) + 4;

    public static TheoryData<string, string> Cases() => new()
    {
        { "bad magic", "bad magic" },
        { "version 0", "unsupported GGUF version 0" },
        { "version 1", "unsupported GGUF version 1" },
        { "version 4", "unsupported GGUF version 4" },
        { "version 999", "unsupported GGUF version 999" },
        { "big-endian version", "big-endian" },
        { "tensor_count negative", "tensor_count" },
        { "tensor_count huge", "tensor_count" },
        { "kv_count negative", "kv_count" },
        { "kv_count huge", "kv_count" },
        { "key length past EOF", "key of metadata entry 0" },
        { "key length 2^62", "key of metadata entry 0" },
        { "empty key", "empty key" },
        { "string value length past EOF", "string value of 'general.architecture'" },
        { "string array count huge", "array 'test.words' claims" },
        { "u32 array needs 4 bytes each", "array 'test.values' claims" },
        { "bool array count 2^40", "array 'test.flags' claims" },
        { "string array element length past EOF", "element 1 of 'test.words'" },
        { "unknown value type", "unknown value type 99" },
        { "unknown array element type", "unknown element type 77" },
        { "array of arrays depth bomb", "nests arrays deeper" },
        { "duplicate key", "duplicate metadata key 'dup.k1'" },
        { "duplicate tensor name", "duplicate tensor name 'first.weight'" },
        { "unknown tensor type 4 (removed)", "unknown ggml type id 4" },
        { "unknown tensor type 1000", "unknown ggml type id 1000" },
        { "n_dims 5", "5 dimensions" },
        { "zero dimension", "dimension 1 is 0" },
        { "negative dimension", "must be positive" },
        { "ne0 not a multiple of the block size", "not a multiple of the block size 32" },
        { "element count overflow", "overflows a 64-bit element count" },
        { "byte size overflow", "byte size overflows" },
        { "tensor offset past EOF", "'third.weight' data" },
        { "tensor offset huge", "'third.weight' data" },
        { "misaligned tensor offset", "not a multiple of the alignment 64" },
        { "overlapping tensors", "overlaps tensor 'first.weight'" },
        { "alignment not a power of two", "general.alignment" },
        { "alignment zero", "general.alignment" },
        { "alignment of type string", "general.alignment" },
        { "data section truncated", "outside the file" },
    };

    private static byte[] Build(string name)
    {
        switch (name)
        {
            case "bad magic": return Patch(b => b[0] ^= 0xFF);
            case "version 0": return Patch(b => U32(b, 4, 0));
            case "version 1": return Patch(b => U32(b, 4, 1));
            case "version 4": return Patch(b => U32(b, 4, 4));
            case "version 999": return Patch(b => U32(b, 4, 999));
            case "big-endian version": return Patch(b => U32(b, 4, 0x03000000));
            case "tensor_count negative": return Patch(b => U64(b, 8, ulong.MaxValue));
            case "tensor_count huge": return Patch(b => U64(b, 8, 1UL << 40));
            case "kv_count negative": return Patch(b => U64(b, 16, 1UL << 63));
            case "kv_count huge": return Patch(b => U64(b, 16, 1UL << 40));
            case "key length past EOF": return Patch(b => U64(b, 24, (ulong)b.Length));
            case "key length 2^62": return Patch(b => U64(b, 24, 1UL << 62));
            case "empty key": return Patch(b => U64(b, 24, 0));
            case "string value length past EOF": return Patch(b => U64(b, After(b, "general.architecture") + 4, 1UL << 50));
            case "string array count huge": return Patch(b => U64(b, After(b, "test.words") + 8, 1UL << 29));
            case "u32 array needs 4 bytes each":
                // Fewer than 2^30 elements (gguf.cpp's cap) but more than the remaining bytes / 4.
                return Patch(b => U64(b, After(b, "test.values") + 8, (ulong)(b.Length / 4)));
            case "bool array count 2^40": return Patch(b => U64(b, After(b, "test.flags") + 8, 1UL << 40));
            case "string array element length past EOF": return Patch(b => U64(b, LengthPrefixOf(b, "beta"), 1UL << 33));
            case "unknown value type": return Patch(b => U32(b, After(b, "test.count"), 99));
            case "unknown array element type": return Patch(b => U32(b, After(b, "test.values") + 4, 77));
            case "array of arrays depth bomb": return DepthBomb(100_000);
            case "duplicate key": return Patch(b => b[After(b, "dup.k2") - 1] = (byte)'1');
            case "duplicate tensor name": return Patch(b => Encoding.UTF8.GetBytes("first.weight").CopyTo(b, After(b, "third.weight") - 12));
            case "unknown tensor type 4 (removed)": return Patch(b => U32(b, TypeOf(b, "third.weight", 1), 4));
            case "unknown tensor type 1000": return Patch(b => U32(b, TypeOf(b, "third.weight", 1), 1000));
            case "n_dims 5": return Patch(b => U32(b, After(b, "third.weight"), 5));
            case "zero dimension": return Patch(b => U64(b, DimsOf(b, "first.weight") + 8, 0));
            case "negative dimension": return Patch(b => U64(b, DimsOf(b, "first.weight") + 8, ulong.MaxValue));
            case "ne0 not a multiple of the block size": return Patch(b => U64(b, DimsOf(b, "second.q8"), 48));
            case "element count overflow": return Patch(b =>
            {
                U64(b, DimsOf(b, "first.weight"), 1UL << 32);
                U64(b, DimsOf(b, "first.weight") + 8, 1UL << 32);
            });
            case "byte size overflow": return Patch(b =>
            {
                U64(b, DimsOf(b, "first.weight"), 1UL << 31);
                U64(b, DimsOf(b, "first.weight") + 8, 1UL << 31); // 2^62 elements × 4 bytes
            });
            case "tensor offset past EOF": return Patch(b => U64(b, OffsetOf(b, "third.weight", 1), (ulong)b.Length));
            case "tensor offset huge": return Patch(b => U64(b, OffsetOf(b, "third.weight", 1), (1UL << 63) - 64));
            case "misaligned tensor offset": return Patch(b => U64(b, OffsetOf(b, "third.weight", 1), 4));
            case "overlapping tensors": return Patch(b => U64(b, OffsetOf(b, "second.q8", 2), 0));
            case "alignment not a power of two": return WithAlignmentValue(GgufValue.Of(48u));
            case "alignment zero": return WithAlignmentValue(GgufValue.Of(0u));
            case "alignment of type string": return WithAlignmentValue(GgufValue.Of("64"));
            case "data section truncated": return ValidFile()[..^60]; // the last tensor is 16 bytes + 48 padding
            default: throw new ArgumentException(name);
        }
    }

    /// <summary>An ARRAY of ARRAY of ARRAY ... <paramref name="depth"/> levels, each holding one element.</summary>
    private static byte[] DepthBomb(int depth)
    {
        var b = new GgufBytes().Header(3, 0, 1).Str("bomb").U32(9);
        for (int i = 0; i < depth; i++)
            b.U32(9).U64(1);
        return b.U32(4).U64(0).ToArray();
    }

    /// <summary>A file whose general.alignment is <paramref name="value"/> (hand-assembled: the writer refuses bad alignments).</summary>
    private static byte[] WithAlignmentValue(GgufValue value)
    {
        var b = new GgufBytes().Header(3, 1, 1).Str("general.alignment").U32((uint)value.Type);
        if (value.Type == GgufValueType.String) b.Str((string)value.Value); else b.U32((uint)value.Value);
        return b.TensorInfo("t", 0, 0, 1).PadTo(64).F32(1).PadTo(64).ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CorruptedFileFailsWithAClearFormatError(string corruption, string expectedProblem)
    {
        GgufFormatException e = ExpectFormatError(Build(corruption));
        Assert.Contains(expectedProblem, e.Message);
    }

    public static TheoryData<string, string> TinyModelCases() => new()
    {
        { "bad magic", "bad magic" },
        { "version 1", "unsupported GGUF version 1" },
        { "kv_count huge", "kv_count" },
        { "token array count huge", "array 'tokenizer.ggml.tokens' claims" },
        { "merge string length past EOF", "element 0 of 'tokenizer.ggml.merges'" },
        { "first tensor type 99", "unknown ggml type id 99" },
        { "first tensor ne0 not a multiple of the block size", "not a multiple of the block size 32" },
        { "last tensor offset past EOF", "lies outside the file" },
        { "rope_freqs offset misaligned", "not a multiple of the alignment 32" },
        { "duplicate tensor name", "duplicate tensor name 'blk.1.attn_k.weight'" },
    };

    /// <summary>Corruptions of the real step35-tiny F32 file (tensor infos: output.weight [128, 512] first, then output_norm, rope_freqs ...).</summary>
    [Theory]
    [MemberData(nameof(TinyModelCases))]
    public void CorruptedTinyModelFailsWithAClearFormatError(string corruption, string expectedProblem)
    {
        byte[] b = File.ReadAllBytes(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));
        string last;
        using (var f = GgufFile.FromBytes(b, Name))
            last = f.Tensors[^1].Name;
        switch (corruption)
        {
            case "bad magic": b[3] = (byte)'G'; break;
            case "version 1": U32(b, 4, 1); break;
            case "kv_count huge": U64(b, 16, 1UL << 33); break;
            case "token array count huge": U64(b, After(b, "tokenizer.ggml.tokens") + 8, 1UL << 28); break;
            case "merge string length past EOF": U64(b, After(b, "tokenizer.ggml.merges") + 16, (ulong)b.Length); break;
            case "first tensor type 99": U32(b, TypeOf(b, "output.weight", 2), 99); break;
            case "first tensor ne0 not a multiple of the block size": U32(b, TypeOf(b, "output.weight", 2), (uint)GgmlType.Q8_0); U64(b, DimsOf(b, "output.weight"), 100); break;
            case "last tensor offset past EOF": U64(b, OffsetOf(b, last, (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(After(b, last)))), (ulong)b.Length); break;
            case "rope_freqs offset misaligned": U64(b, OffsetOf(b, "rope_freqs.weight", 1), BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(OffsetOf(b, "rope_freqs.weight", 1))) + 4); break;
            case "duplicate tensor name": b[After(b, "blk.2.attn_k.weight") - 15] = (byte)'1'; break; // blk.2.attn_k → blk.1.attn_k
            default: throw new ArgumentException(corruption);
        }
        Assert.Contains(expectedProblem, ExpectFormatError(b).Message);
    }

    [Fact]
    public void EveryValidFileBaseParses()
    {
        using var f = GgufFile.FromBytes(ValidFile(), Name);
        Assert.Equal(3, f.Tensors.Count);
        using var g = GgufFile.FromBytes(DepthBomb(3), Name); // shallow nesting is legal (spec §1.2)
        Assert.Equal(GgufValueType.Array, g.Metadata["bomb"].ElementType);
    }

    [Fact]
    public void TruncatingTheWriterFileAnywhereFails()
    {
        byte[] image = ValidFile();
        long dataOffset;
        using (var f = GgufFile.FromBytes(image, Name))
            dataOffset = f.DataOffset;
        // Inside the header, at the data start, inside the first tensor and inside the last one (16 bytes + 48 padding).
        var cuts = Enumerable.Range(0, 32).Select(k => (int)(dataOffset * k / 32)).Concat([(int)dataOffset + 1, (int)dataOffset + 100, image.Length - 49]);
        foreach (int cut in cuts.Distinct())
            AssertTruncationError(ExpectFormatError(image[..cut]), cut);
    }

    [Fact]
    public void TruncatingTheTinyModelAnywhereFails()
    {
        byte[] image = File.ReadAllBytes(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));
        long dataOffset, lastTensorEnd;
        using (var f = GgufFile.FromBytes(image, Name))
        {
            dataOffset = f.DataOffset;
            lastTensorEnd = f.Tensors.Max(t => f.DataOffset + t.Offset + t.ByteLength);
        }
        var cuts = Enumerable.Range(0, 32).Select(k => (int)(dataOffset * k / 32))
            .Concat([(int)dataOffset, (int)dataOffset + 4096, image.Length / 2, (int)lastTensorEnd - 1]);
        foreach (int cut in cuts.Distinct())
            AssertTruncationError(ExpectFormatError(image[..cut]), cut);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RandomHeaderCorruptionNeverEscapesAsAnotherException(bool tinyModel)
    {
        byte[] image = tinyModel ? File.ReadAllBytes(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf")) : ValidFile();
        int headerEnd;
        using (var f = GgufFile.FromBytes(image, Name))
            headerEnd = (int)f.DataOffset;
        var rng = new Random(tinyModel ? 11 : 12);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (int iteration = 0; iteration < 1500; iteration++)
        {
            // Corrupt 1-4 header bytes (the fields a lying file controls), parse, restore.
            var saved = new List<(int At, byte Value)>();
            for (int k = rng.Next(1, 5); k > 0; k--)
            {
                int at = rng.Next(headerEnd);
                saved.Add((at, image[at]));
                image[at] = rng.Next(3) switch { 0 => 0xFF, 1 => (byte)rng.Next(256), _ => (byte)(image[at] ^ (1 << rng.Next(8))) };
            }
            try
            {
                using var f = GgufFile.FromBytes(image, Name);
            }
            catch (GgufFormatException)
            {
                // the expected outcome for most corruptions
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {iteration}: {e.GetType().Name} escaped: {e.Message}");
            }
            for (int k = saved.Count - 1; k >= 0; k--)
                image[saved[k].At] = saved[k].Value;
        }
        Assert.True(watch.Elapsed < Timeout * 3, $"1500 corrupted parses took {watch.Elapsed}");
    }

    private static void AssertTruncationError(GgufFormatException e, int cut)
    {
        string[] words = ["truncated", "remain", "outside the file", "impossible"];
        Assert.True(words.Any(w => e.Message.Contains(w)), $"cut at {cut}: unexpected message {e.Message}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(23)]
    public void OpeningATooShortFileFails(int length)
    {
        string path = Path.Combine(Path.GetTempPath(), $"stepsharp-short-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, ValidFile()[..length]);
        try
        {
            var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("truncated", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ErrorsCarryTheByteOffset()
    {
        GgufFormatException e = ExpectFormatError(Build("unknown value type"));
        byte[] b = ValidFile();
        Assert.Equal(After(b, "test.count"), e.Offset);
        Assert.Contains($"at byte {After(b, "test.count")}", e.Message);
    }

    /// <summary>Parses on a worker thread so a hang fails the test instead of blocking the run.</summary>
    private static GgufFormatException ExpectFormatError(byte[] image)
    {
        var task = Task.Run(() =>
        {
            using var f = GgufFile.FromBytes(image, Name);
        });
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(Timeout))
            Assert.Fail($"parsing did not finish within {Timeout.TotalSeconds} s");
        Exception? thrown = task.Exception?.InnerException;
        Assert.NotNull(thrown);
        var e = Assert.IsType<GgufFormatException>(thrown);
        Assert.StartsWith(Name + ":", e.Message);
        return e;
    }
}
