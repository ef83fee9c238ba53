using System.Text;

namespace StepSharp.Tests.Formats;

/// <summary>
/// Hand assembly of GGUF byte images for tests, written straight from the spec tables
/// (gguf-format.md §1) without using GgufWriter, so parser tests do not depend on the writer.
/// </summary>
internal sealed class GgufBytes
{
    private readonly MemoryStream _stream = new();
    private readonly BinaryWriter _w;

    public GgufBytes() => _w = new BinaryWriter(_stream, Encoding.UTF8, leaveOpen: true);

    public long Position => _stream.Position;

    public GgufBytes U8(byte v) { _w.Write(v); return this; }
    public GgufBytes U32(uint v) { _w.Write(v); return this; }
    public GgufBytes U64(ulong v) { _w.Write(v); return this; }
    public GgufBytes F32(float v) { _w.Write(v); return this; }
    public GgufBytes Raw(byte[] bytes) { _w.Write(bytes); return this; }
    public GgufBytes Zeros(int n) { _w.Write(new byte[n]); return this; }

    public GgufBytes Str(string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        U64((ulong)b.Length);
        return Raw(b);
    }

    /// <summary>magic "GGUF", version, tensor_count, kv_count (spec §1.1).</summary>
    public GgufBytes Header(uint version, ulong tensors, ulong kvs) =>
        Raw("GGUF"u8.ToArray()).U32(version).U64(tensors).U64(kvs);

    /// <summary>A tensor-info record (spec §1.3).</summary>
    public GgufBytes TensorInfo(string name, uint type, ulong offset, params ulong[] dims)
    {
        Str(name).U32((uint)dims.Length);
        foreach (ulong d in dims)
            U64(d);
        return U32(type).U64(offset);
    }

    public GgufBytes PadTo(long alignment)
    {
        while (_stream.Position % alignment != 0)
            _w.Write((byte)0);
        return this;
    }

    public byte[] ToArray()
    {
        _w.Flush();
        return _stream.ToArray();
    }
}
