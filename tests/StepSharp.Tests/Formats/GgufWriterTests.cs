using StepSharp.Formats;
using StepSharp.Tensors;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Formats;

public class GgufWriterTests
{
    [Fact]
    public void WritesTheSpecWorkedExampleByteForByte()
    {
        var w = new GgufWriter()
            .Add("general.architecture", "tiny")
            .Add("tiny.n", 7u)
            .Add("tiny.flag", true)
            .Add("tiny.words", new[] { "ab", "c" })
            .AddTensor("t", [3, 2], [1f, 2, 3, 4, 5, 6])
            .AddTensor("u", [1], [0.5f]);
        Assert.Equal(GgufFileTests.SpecExampleFile(), w.ToArray());
    }

    [Fact]
    public void EveryMetadataTypeRoundTrips()
    {
        byte[] invalidUtf8 = [0xC4, 0xFF, 0x00, 0x41];
        var nested = GgufValue.Of([GgufValue.Of(new[] { 1, 2, 3 }), GgufValue.Of(new[] { "x", "yz" }), GgufValue.Of([GgufValue.Of(new[] { 9.5f })])]);
        var w = new GgufWriter()
            .Add("u8", (byte)200).Add("i8", (sbyte)-100).Add("u16", (ushort)60000).Add("i16", (short)-30000)
            .Add("u32", 4_000_000_000u).Add("i32", -2_000_000_000).Add("f32", 3.25f).Add("bool", false)
            .Add("str", "héllo ✓").Add("u64", ulong.MaxValue).Add("i64", long.MinValue).Add("f64", Math.PI)
            .Add("raw", GgufValue.OfStringBytes(invalidUtf8))
            .Add("a.u8", GgufValue.Of(new byte[] { 1, 255 })).Add("a.i8", GgufValue.Of(new sbyte[] { -1, 127 }))
            .Add("a.u16", GgufValue.Of(new ushort[] { 65535 })).Add("a.i16", GgufValue.Of(new short[] { -2 }))
            .Add("a.u32", new uint[] { 1, 2 }).Add("a.i32", new[] { -1, 5 }).Add("a.f32", new[] { 0.5f, -0f })
            .Add("a.bool", new[] { true, false, true }).Add("a.u64", GgufValue.Of(new ulong[] { ulong.MaxValue }))
            .Add("a.i64", new long[] { -5, long.MaxValue }).Add("a.f64", GgufValue.Of(new[] { 1e300, -2.5 }))
            .Add("a.str", new[] { "", "a b", "ü" }).Add("a.raw", GgufValue.OfStringBytes([invalidUtf8, [0x20]]))
            .Add("a.empty", Array.Empty<int>())
            .Add("a.nested", nested);
        using var f = GgufFile.FromBytes(w.ToArray(), "roundtrip.gguf");
        var m = f.Metadata;

        Assert.Equal(28, m.Count);
        Assert.Equal((byte)200, m["u8"].Value);
        Assert.Equal((sbyte)-100, m["i8"].Value);
        Assert.Equal((ushort)60000, m["u16"].Value);
        Assert.Equal((short)-30000, m["i16"].Value);
        Assert.Equal(4_000_000_000u, m["u32"].Value);
        Assert.Equal(-2_000_000_000, m["i32"].Value);
        Assert.Equal(3.25f, m["f32"].Value);
        Assert.Equal(false, m["bool"].Value);
        Assert.Equal("héllo ✓", m.GetString("str"));
        Assert.Equal(ulong.MaxValue, m["u64"].Value);
        Assert.Equal(long.MinValue, m.GetRequiredInt64("i64"));
        Assert.Equal(Math.PI, m["f64"].Value);
        Assert.Equal(invalidUtf8, m["raw"].StringBytes);
        Assert.Equal(new byte[] { 1, 255 }, m["a.u8"].Value);
        Assert.Equal(new sbyte[] { -1, 127 }, m["a.i8"].Value);
        Assert.Equal(new ushort[] { 65535 }, m["a.u16"].Value);
        Assert.Equal(new short[] { -2 }, m["a.i16"].Value);
        Assert.Equal(new uint[] { 1, 2 }, m["a.u32"].Value);
        Assert.Equal(new long[] { -1, 5 }, m.GetInt64Array("a.i32"));
        Assert.Equal(new[] { 0.5f, -0f }, m.GetFloat32Array("a.f32"));
        Assert.True(float.IsNegative(m.GetFloat32Array("a.f32")![1]));
        Assert.Equal(new[] { true, false, true }, m.GetBoolArray("a.bool"));
        Assert.Equal(new ulong[] { ulong.MaxValue }, m["a.u64"].Value);
        Assert.Equal(new long[] { -5, long.MaxValue }, m.GetInt64Array("a.i64"));
        Assert.Equal(new[] { 1e300, -2.5 }, m["a.f64"].Value);
        Assert.Equal(new[] { "", "a b", "ü" }, m.GetStringArray("a.str"));
        Assert.Equal(invalidUtf8, m.GetStringBytesArray("a.raw")![0]);
        Assert.Equal("\uFFFD", m.GetStringArray("a.raw")![0][..1]); // invalid UTF-8 decodes to U+FFFD, never throws
        Assert.Empty(m.GetInt64Array("a.empty")!);
        Assert.Equal(GgufValueType.Int32, m["a.empty"].ElementType);

        GgufValue n = m["a.nested"];
        Assert.Equal(GgufValueType.Array, n.ElementType);
        var inner = (GgufValue[])n.Value;
        Assert.Equal(3, inner.Length);
        Assert.Equal(new[] { 1, 2, 3 }, inner[0].Value);
        Assert.Equal(new[] { "x", "yz" }, inner[1].Value);
        Assert.Equal(new[] { 9.5f }, ((GgufValue[])inner[2].Value)[0].Value);

        // Lenient widths, strict kinds (spec §1.2: writers disagree on integer widths).
        Assert.Equal(4_000_000_000L, m.GetRequiredInt64("u32"));
        var e = Assert.Throws<GgufFormatException>(() => m.GetRequiredInt64("u64"));
        Assert.Contains("'u64'", e.Message);
        Assert.Throws<GgufFormatException>(() => m.GetInt64Array("a.u64"));
        Assert.Equal(new[] { 1f, 255f }, m.GetFloat32Array("a.u8"));
        Assert.Equal((float)Math.PI, m.GetFloat32("f64", 0));
    }

    [Fact]
    public void TensorsRoundTripWithAlignmentAndVersion2()
    {
        var rng = new Random(7);
        float[] f32 = Enumerable.Range(0, 4 * 3 * 2 * 2).Select(_ => rng.NextSingle()).ToArray();
        var q8 = new byte[2 * 34 * 3];
        rng.NextBytes(q8);
        var f16 = new byte[10];
        rng.NextBytes(f16);
        var w = new GgufWriter(alignment: 64) { Version = 2 }
            .Add("general.name", "t")
            .AddTensor("a", [4, 3, 2, 2], f32)
            .AddTensor("b", GgmlType.Q8_0, [64, 3], q8)
            .AddTensor("c", GgmlType.F16, [5], f16);
        byte[] image = w.ToArray();
        using var f = GgufFile.FromBytes(image, "aligned.gguf");

        Assert.Equal(2u, f.Version);
        Assert.Equal(64, f.Alignment);
        Assert.Equal(64L, f.Metadata.GetRequiredInt64("general.alignment"));
        Assert.Equal(0, f.DataOffset % 64);
        Assert.Equal(0, image.Length % 64); // the last tensor is padded too (spec §1.4)
        Assert.Equal([0L, 192, 448], f.Tensors.Select(t => t.Offset)); // a: 48 floats = 192 B; b: 204 B padded to 256
        Assert.Equal(f32, f.GetTensor("a").ToFloatArray());
        Assert.Equal([4L, 3, 2, 2], f.GetTensor("a").Shape);
        Assert.Equal(12, f.GetTensor("a").RowCount);
        Assert.Equal(q8, f.GetTensor("b").Bytes.ToArray());
        Assert.Equal(q8.AsSpan(68, 68).ToArray(), f.GetTensor("b").Row(1).ToArray());
        Assert.Equal(f16, f.GetTensor("c").Bytes.ToArray());
    }

    [Fact]
    public void RewritingTheTinyModelReproducesItsTensorsAndMetadata()
    {
        using var source = GgufFile.Open(TestData.Path("step35-tiny", "step35-tiny-a-q4_k_m.gguf"));
        var w = new GgufWriter().AddAll(source.Metadata);
        foreach (GgufTensorInfo t in source.Tensors)
            w.AddTensor(t.Name, t.Type, t.Shape, source.GetTensor(t.Name).Bytes.ToArray());
        using var copy = GgufFile.FromBytes(w.ToArray(), "copy.gguf");

        Assert.Equal(source.Metadata.Keys, copy.Metadata.Keys);
        Assert.Equal(source.Metadata.GetStringBytesArray("tokenizer.ggml.tokens")!, copy.Metadata.GetStringBytesArray("tokenizer.ggml.tokens")!);
        foreach (GgufTensorInfo t in source.Tensors)
        {
            Assert.Equal(t, copy.GetTensorInfo(t.Name) with { Shape = t.Shape });
            Assert.True(source.GetTensor(t.Name).Bytes.SequenceEqual(copy.GetTensor(t.Name).Bytes), t.Name);
        }
        // llama-quantize lays the file out exactly like our writer (spec §1.4), so the images are identical.
        Assert.Equal(File.ReadAllBytes(source.Path), w.ToArray());
    }

    [Fact]
    public void RejectsInvalidInput()
    {
        var w = new GgufWriter().Add("k", 1);
        Assert.Throws<ArgumentException>(() => w.Add("k", 2));
        Assert.Throws<ArgumentException>(() => w.Add("", 2));
        Assert.Throws<ArgumentException>(() => w.Add("general.alignment", 64u));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.Q8_0, [33], new byte[34]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.Q8_0, [32], new byte[33]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [1, 1, 1, 1, 1], new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.F32, [0], Array.Empty<byte>()));
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", (GgmlType)4, [1], new byte[4]));
        w.AddTensor("t", [1], [1f]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", [1], [1f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter(alignment: 48));
    }

    [Fact]
    public void QuantizingAddTensorStoresWhatQuantizeRowProduces()
    {
        float[] x = Enumerable.Range(0, 64).Select(i => MathF.Sin(i)).ToArray();
        using var f = GgufFile.FromBytes(new GgufWriter().AddTensor("q", GgmlType.Q8_0, [32, 2], x).ToArray(), "q.gguf");
        var expected = new byte[68];
        Quantize.Row(GgmlType.Q8_0, x, expected);
        Assert.Equal(expected, f.GetTensor("q").Bytes.ToArray());
    }
}
