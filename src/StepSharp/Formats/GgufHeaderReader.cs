using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace StepSharp.Formats;

/// <summary>
/// A bounds-checked little-endian cursor over the mapped file. Every read first checks the bytes that
/// remain, so a truncated or lying header fails with the offset of the field instead of reading past
/// the mapping. Counts read from the file are validated against the remaining bytes before anything
/// is allocated from them (spec gguf-format.md §1.2: gguf.cpp does the same, plus a 2^30 cap).
/// </summary>
internal unsafe struct GgufHeaderReader
{
    /// <summary>gguf.cpp's limit on string byte lengths and array element counts.</summary>
    public const long MaxCount = 1L << 30;

    private readonly byte* _base;
    private readonly long _length;
    private readonly string _path;

    public GgufHeaderReader(byte* data, long length, string path)
    {
        _base = data;
        _length = length;
        _path = path;
        Position = 0;
    }

    public long Position { get; private set; }
    public long Remaining => _length - Position;
    public string Path => _path;

    public GgufFormatException Error(string problem, long? offset = null) => new(_path, problem, offset ?? Position);

    public void Require(long bytes, GgufField what)
    {
        if (bytes < 0 || bytes > Remaining)
            throw Error($"truncated: {what} needs {bytes} bytes but only {Remaining} remain (file is {_length} bytes)");
    }

    public byte ReadU8(GgufField what)
    {
        Require(1, what);
        return _base[Position++];
    }

    public ushort ReadU16(GgufField what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
    public uint ReadU32(GgufField what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
    public ulong ReadU64(GgufField what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    /// <summary>A u64 count or size that must be a non-negative int64 (gguf.cpp reads them as int64).</summary>
    public long ReadCount(GgufField what, string errorPrefix = "")
    {
        long at = Position;
        ulong v = ReadU64(what);
        if (v > long.MaxValue)
            throw Error($"{errorPrefix}{what} {v} is negative as a signed 64-bit value", at);
        return (long)v;
    }

    /// <summary>Returns the next <paramref name="count"/> bytes as a span over the mapping and advances.</summary>
    public ReadOnlySpan<byte> Take(long count, GgufField what)
    {
        Require(count, what);
        if (count > int.MaxValue)
            throw Error($"{what} of {count} bytes is too large");
        var span = new ReadOnlySpan<byte>(_base + Position, (int)count);
        Position += count;
        return span;
    }

    /// <summary>A GGUF string (u64 length + bytes), length checked against the remaining bytes first.</summary>
    public byte[] ReadStringBytes(GgufField what, long maxLength = MaxCount)
    {
        long at = Position;
        long length = ReadCount(what, errorPrefix: "length of ");
        if (length > Remaining)
            throw Error($"{what} claims {length} bytes but only {Remaining} remain before the end of the file", at);
        if (length > maxLength)
            throw Error($"{what} claims {length} bytes, more than the limit of {maxLength}", at);
        return Take(length, what).ToArray();
    }

    /// <summary>Copies <paramref name="count"/> little-endian elements of T (count already validated).</summary>
    public T[] ReadArray<T>(long count, GgufField what) where T : unmanaged
    {
        long bytes = count * sizeof(T);
        ReadOnlySpan<byte> raw = Take(bytes, what);
        var result = new T[count];
        raw.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("StepSharp reads GGUF only on little-endian machines");
        return result;
    }
}
