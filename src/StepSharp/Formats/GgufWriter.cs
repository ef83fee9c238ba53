using System.Buffers.Binary;
using System.Runtime.InteropServices;
using StepSharp.Tensors;

namespace StepSharp.Formats;

/// <summary>
/// Builds a GGUF file (spec gguf-format.md §1): header, metadata in insertion order, tensor infos, then
/// the data section with every tensor (the last one too) zero-padded to the alignment, offsets
/// back to back — the layout gguf.cpp insists on (§1.4). Writes version 3 unless told otherwise.
/// Tensor bytes are referenced, not copied, until written.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    private sealed record PendingTensor(string Name, GgmlType Type, long[] Shape, ReadOnlyMemory<byte> Data);

    /// <param name="alignment">Data alignment: a power of two; when not 32 it is recorded as general.alignment.</param>
    public GgufWriter(long alignment = GgufHeaderParser.DefaultAlignment)
    {
        if (alignment <= 0 || alignment > (1L << 30) || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "alignment must be a power of two up to 2^30");
        Alignment = alignment;
    }

    public long Alignment { get; }

    /// <summary>gguf.cpp rejects longer tensor names (GGML_MAX_NAME = 64 with the NUL, spec §1.3).</summary>
    public const int MaxTensorNameBytes = 63;

    /// <summary>GGUF version to write: 3 (default) or 2, which is byte-identical for little-endian files.</summary>
    public uint Version { get; init; } = 3;

    public int TensorCount => _tensors.Count;

    /// <summary>Adds a metadata entry; keys must be unique and non-empty.</summary>
    public GgufWriter Add(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key == GgufHeaderParser.AlignmentKey && !(value.Type == GgufValueType.UInt32 && (uint)value.Value == Alignment))
            throw new ArgumentException($"'{key}' must be the UINT32 {Alignment} given to the writer's constructor", nameof(value));
        if (!_keys.Add(key))
            throw new ArgumentException($"duplicate metadata key '{key}'", nameof(key));
        _metadata.Add(new(key, value));
        return this;
    }

    // Convenience overloads: the .NET type picks the GGUF type (uint → UINT32, int → INT32, ...).
    public GgufWriter Add(string key, string value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, bool value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, byte value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, sbyte value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, ushort value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, short value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, uint value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, int value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, ulong value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, long value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, float value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, double value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, string[] value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, bool[] value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, int[] value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, uint[] value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, long[] value) => Add(key, GgufValue.Of(value));
    public GgufWriter Add(string key, float[] value) => Add(key, GgufValue.Of(value));

    /// <summary>Copies every metadata entry of <paramref name="source"/> (except general.alignment).</summary>
    public GgufWriter AddAll(GgufMetadata source)
    {
        foreach (var (key, value) in source)
        {
            if (key != GgufHeaderParser.AlignmentKey)
                Add(key, value);
        }
        return this;
    }

    /// <summary>Adds a tensor of any type from its raw bytes (referenced until written, not copied).</summary>
    /// <param name="shape">ggml order, ne0 first, 1 to 4 positive dims.</param>
    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (GgmlTypeInfo.IsInMemoryLayout(type))
            throw new ArgumentException($"tensor '{name}': {type} is an in-memory layout of StepSharp's kernels, not a type a GGUF file may hold", nameof(type));
        if (!GgmlTypeInfo.IsKnown(type))
            throw new ArgumentException($"tensor '{name}': unknown ggml type {(uint)type}", nameof(type));
        if (shape.Length is < 1 or > 4 || shape.Any(d => d <= 0))
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] must have 1 to 4 positive dimensions", nameof(shape));
        long rows = 1;
        for (int i = 1; i < shape.Length; i++)
            rows = checked(rows * shape[i]);
        long expected = checked(GgmlTypeInfo.RowBytes(type, shape[0]) * rows);
        if (data.Length != expected)
            throw new ArgumentException($"tensor '{name}' of {type} [{string.Join(", ", shape)}] needs {expected} bytes, got {data.Length}", nameof(data));
        if (System.Text.Encoding.UTF8.GetByteCount(name) is 0 or > MaxTensorNameBytes)
            throw new ArgumentException($"tensor name '{name}' must be 1 to {MaxTensorNameBytes} UTF-8 bytes (llama.cpp's GGML_MAX_NAME)", nameof(name));
        if (!_tensorNames.Add(name))
            throw new ArgumentException($"duplicate tensor name '{name}'", nameof(name));
        _tensors.Add(new PendingTensor(name, type, (long[])shape.Clone(), data));
        return this;
    }

    /// <summary>Adds an F32 tensor.</summary>
    public GgufWriter AddTensor(string name, long[] shape, float[] data) =>
        AddTensor(name, GgmlType.F32, shape, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());

    /// <summary>Quantizes <paramref name="data"/> (row by row, ne0 = shape[0]) to <paramref name="type"/> and adds it.</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] shape, ReadOnlySpan<float> data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0 || shape[0] <= 0)
            throw new ArgumentException($"tensor '{name}': bad shape", nameof(shape));
        int ne0 = checked((int)shape[0]);
        if (data.Length % ne0 != 0)
            throw new ArgumentException($"tensor '{name}': {data.Length} values are not whole rows of {ne0}", nameof(data));
        long rowBytes = GgmlTypeInfo.RowBytes(type, ne0);
        int rows = data.Length / ne0;
        var bytes = new byte[checked(rowBytes * rows)];
        for (int r = 0; r < rows; r++)
            Quantize.Row(type, data.Slice(r * ne0, ne0), bytes.AsSpan((int)(r * rowBytes), (int)rowBytes));
        return AddTensor(name, type, shape, bytes);
    }

    /// <summary>The file image as a byte array.</summary>
    public byte[] ToArray()
    {
        using var stream = new MemoryStream();
        WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>Writes the whole file to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var entries = new List<KeyValuePair<string, GgufValue>>(_metadata);
        if (Alignment != GgufHeaderParser.DefaultAlignment && !_keys.Contains(GgufHeaderParser.AlignmentKey))
            entries.Add(new(GgufHeaderParser.AlignmentKey, GgufValue.Of((uint)Alignment)));

        var w = new GgufStreamWriter(stream);
        w.Bytes("GGUF"u8);
        w.U32(Version);
        w.U64((ulong)_tensors.Count);
        w.U64((ulong)entries.Count);
        foreach (var (key, value) in entries)
        {
            w.String(System.Text.Encoding.UTF8.GetBytes(key));
            w.U32((uint)value.Type);
            w.Value(value);
        }

        long offset = 0;
        foreach (PendingTensor t in _tensors)
        {
            w.String(System.Text.Encoding.UTF8.GetBytes(t.Name));
            w.U32((uint)t.Shape.Length);
            foreach (long d in t.Shape)
                w.U64((ulong)d);
            w.U32((uint)t.Type);
            w.U64((ulong)offset);
            offset += GgufHeaderParser.AlignUp(t.Data.Length, Alignment);
        }
        w.PadTo(Alignment);
        foreach (PendingTensor t in _tensors)
        {
            w.Bytes(t.Data.Span);
            w.PadTo(Alignment);
        }
        w.Flush();
    }

    /// <summary>Little-endian primitive writer that tracks the absolute position for padding.</summary>
    private sealed class GgufStreamWriter(Stream stream)
    {
        private readonly BufferedStream _out = new(stream, 1 << 16);
        private readonly byte[] _scratch = new byte[8];
        private long _position;

        public void Bytes(ReadOnlySpan<byte> b)
        {
            _out.Write(b);
            _position += b.Length;
        }

        public void U8(byte v) => Bytes([v]);
        public void U16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(_scratch, v); Bytes(_scratch.AsSpan(0, 2)); }
        public void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(_scratch, v); Bytes(_scratch.AsSpan(0, 4)); }
        public void U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(_scratch, v); Bytes(_scratch.AsSpan(0, 8)); }

        public void String(byte[] utf8)
        {
            U64((ulong)utf8.Length);
            Bytes(utf8);
        }

        public void PadTo(long alignment)
        {
            while (_position % alignment != 0)
                U8(0);
        }

        public void Flush() => _out.Flush();

        public void Value(GgufValue v)
        {
            if (v.IsArray)
            {
                Array(v);
                return;
            }
            switch (v.Value)
            {
                case byte b: U8(b); break;
                case sbyte sb: U8((byte)sb); break;
                case ushort us: U16(us); break;
                case short s: U16((ushort)s); break;
                case uint ui: U32(ui); break;
                case int i: U32((uint)i); break;
                case float f: U32(BitConverter.SingleToUInt32Bits(f)); break;
                case bool flag: U8(flag ? (byte)1 : (byte)0); break;
                case ulong ul: U64(ul); break;
                case long l: U64((ulong)l); break;
                case double d: U64(BitConverter.DoubleToUInt64Bits(d)); break;
                case string: String(v.StringBytes!); break;
                default: throw new InvalidOperationException($"cannot write a GGUF value of {v.Type}");
            }
        }

        // An array value: element type, count, elements; nested arrays omit each element's value-type tag (spec §1.2).
        private void Array(GgufValue v)
        {
            U32((uint)v.ElementType);
            U64((ulong)v.Count);
            if (v.StringArrayBytes is { } strings)
            {
                foreach (byte[] s in strings)
                    String(s);
                return;
            }
            switch (v.Value)
            {
                case GgufValue[] nested:
                    foreach (GgufValue inner in nested)
                        Array(inner);
                    break;
                case bool[] bools:
                    foreach (bool flag in bools)
                        U8(flag ? (byte)1 : (byte)0);
                    break;
                case byte[] raw: Bytes(raw); break;
                case sbyte[] a: Bytes(MemoryMarshal.AsBytes(a.AsSpan())); break;
                case ushort[] a: Bytes(MemoryMarshal.AsBytes(a.AsSpan())); break;
                case short[] a: Bytes(MemoryMarshal.AsBytes(a.AsSpan())); break;
                case uint[] a: Bytes(MemoryMarshal.AsBytes(a.AsSpan())); break;
                case int[] a: Bytes(MemoryMarshal.AsBytes(a.AsSpan())); break;
                case float[] a: Bytes(MemoryMarshal.AsBytes(a.AsSpan())); break;
                case ulong[] a: Bytes(MemoryMarshal.AsBytes(a.AsSpan())); break;
                case long[] a: Bytes(MemoryMarshal.AsBytes(a.AsSpan())); break;
                case double[] a: Bytes(MemoryMarshal.AsBytes(a.AsSpan())); break;
                default: throw new InvalidOperationException($"cannot write a GGUF array of {v.ElementType}");
            }
        }
    }
}
