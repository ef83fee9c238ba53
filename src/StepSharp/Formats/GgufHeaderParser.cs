using StepSharp.Tensors;

namespace StepSharp.Formats;

/// <summary>What the header says: everything before the data section, already validated.</summary>
internal sealed record GgufHeader(uint Version, GgufMetadata Metadata, GgufTensorInfo[] Tensors, long Alignment, long DataOffset);

/// <summary>
/// Parses a GGUF header (spec gguf-format.md §1) directly from mapped memory: header, key/values,
/// tensor infos, alignment and data-section placement, with every rule of §1.3/§1.4 checked.
/// Tensor data is never touched, so opening a 120 GB file costs only the header.
/// </summary>
internal static unsafe class GgufHeaderParser
{
    public const uint Magic = 0x46554747; // "GGUF" read as a little-endian u32
    public const long DefaultAlignment = 32;
    public const string AlignmentKey = "general.alignment";

    /// <summary>How deep arrays of arrays may nest; gguf.cpp allows none, gguf-py any (spec §1.2).</summary>
    public const int MaxArrayNesting = 8;

    // Smallest possible encodings, used to reject absurd counts before allocating (spec §1.2-1.3).
    private const long MinKvBytes = 8 + 1 + 4 + 1;          // key length, 1-byte key, type, 1-byte value
    private const long MinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims (0), type, offset
    private const long MinNestedArrayBytes = 4 + 8;         // element type + count
    private const int MaxDims = 4;
    private const long MaxKeyBytes = 65535;

    public static GgufHeader Parse(byte* data, long length, string path)
    {
        var r = new GgufHeaderReader(data, length, path);
        uint magic = r.ReadU32("magic");
        if (magic != Magic)
            throw r.Error($"bad magic 0x{magic:X8} (bytes {Hex(magic)}): not a GGUF file (expected 47 47 55 46 \"GGUF\")", 0);

        uint version = r.ReadU32("version");
        if ((version & 0xFFFF) == 0 && version != 0)
            throw r.Error($"version field 0x{version:X8} looks byte-swapped: big-endian GGUF files are not supported", 4);
        if (version is < 2 or > 3)
            throw r.Error($"unsupported GGUF version {version} (only versions 2 and 3 are supported{(version == 1 ? "; version 1 used 32-bit counts" : "")})", 4);

        long tensorCount = r.ReadCount("tensor_count");
        long kvCount = r.ReadCount("kv_count");
        // Each record has a minimum size, so the counts cannot exceed what the file could hold.
        if (kvCount > r.Remaining / MinKvBytes)
            throw r.Error($"kv_count {kvCount} is impossible: {r.Remaining} bytes remain, each key/value needs at least {MinKvBytes}", 16);
        if (tensorCount > (r.Remaining - kvCount * MinKvBytes) / MinTensorInfoBytes)
            throw r.Error($"tensor_count {tensorCount} is impossible: {r.Remaining} bytes remain, each tensor info needs at least {MinTensorInfoBytes}", 8);

        var entries = new List<KeyValuePair<string, GgufValue>>((int)kvCount);
        var seenKeys = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < kvCount; i++)
        {
            long at = r.Position;
            byte[] keyBytes = r.ReadStringBytes(new("key of metadata entry {1}", null, i), MaxKeyBytes);
            if (keyBytes.Length == 0)
                throw r.Error($"metadata entry {i} has an empty key", at);
            string key = GgufValue.Decode(keyBytes);
            if (!seenKeys.Add(key))
                throw r.Error($"duplicate metadata key '{key}'", at);
            long typeAt = r.Position;
            var type = (GgufValueType)r.ReadU32(new("value type of '{0}'", key));
            GgufValue value = ReadValue(ref r, type, key, typeAt, depth: 0);
            entries.Add(new(key, value));
        }
        var metadata = new GgufMetadata(path, entries);
        long alignment = ReadAlignment(metadata, path);

        var tensors = new GgufTensorInfo[tensorCount];
        var seenNames = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            long at = r.Position;
            tensors[i] = ReadTensorInfo(ref r, i);
            if (!seenNames.Add(tensors[i].Name))
                throw r.Error($"duplicate tensor name '{tensors[i].Name}'", at);
        }

        long dataOffset = AlignUp(r.Position, alignment);
        CheckPlacement(tensors, alignment, dataOffset, length, path);
        return new GgufHeader(version, metadata, tensors, alignment, dataOffset);
    }

    public static long AlignUp(long x, long alignment) => x + (alignment - x % alignment) % alignment;

    private static GgufValue ReadValue(ref GgufHeaderReader r, GgufValueType type, string key, long typeAt, int depth)
    {
        var value = new GgufField("value of '{0}'", key);
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.Of(r.ReadU8(value));
            case GgufValueType.Int8: return GgufValue.Of((sbyte)r.ReadU8(value));
            case GgufValueType.UInt16: return GgufValue.Of(r.ReadU16(value));
            case GgufValueType.Int16: return GgufValue.Of((short)r.ReadU16(value));
            case GgufValueType.UInt32: return GgufValue.Of(r.ReadU32(value));
            case GgufValueType.Int32: return GgufValue.Of((int)r.ReadU32(value));
            case GgufValueType.Float32: return GgufValue.Of(BitConverter.UInt32BitsToSingle(r.ReadU32(value)));
            case GgufValueType.Bool: return GgufValue.Of(r.ReadU8(value) != 0); // gguf.cpp: any non-zero byte is true
            case GgufValueType.UInt64: return GgufValue.Of(r.ReadU64(value));
            case GgufValueType.Int64: return GgufValue.Of((long)r.ReadU64(value));
            case GgufValueType.Float64: return GgufValue.Of(BitConverter.UInt64BitsToDouble(r.ReadU64(value)));
            case GgufValueType.String: return GgufValue.OfStringBytes(r.ReadStringBytes(new("string value of '{0}'", key)));
            case GgufValueType.Array: return ReadArray(ref r, key, depth);
            default:
                throw r.Error($"metadata key '{key}' has unknown value type {(uint)type}", typeAt);
        }
    }

    private static GgufValue ReadArray(ref GgufHeaderReader r, string key, int depth)
    {
        long elemAt = r.Position;
        var elementType = (GgufValueType)r.ReadU32(new("array element type of '{0}'", key));
        long countAt = r.Position;
        long count = r.ReadCount(new("array length of '{0}'", key));
        var elements = new GgufField("elements of '{0}'", key);
        long minElementBytes = MinElementBytes(elementType);
        if (minElementBytes == 0)
            throw r.Error($"metadata key '{key}' is an array of unknown element type {(uint)elementType}", elemAt);
        if (count > GgufHeaderReader.MaxCount)
            throw r.Error($"array '{key}' claims {count} elements, more than the limit of {GgufHeaderReader.MaxCount}", countAt);
        if (count > r.Remaining / minElementBytes)
            throw r.Error($"array '{key}' claims {count} elements of {elementType} (at least {minElementBytes} bytes each) but only {r.Remaining} bytes remain", countAt);

        switch (elementType)
        {
            case GgufValueType.UInt8: return GgufValue.Of(r.ReadArray<byte>(count, elements));
            case GgufValueType.Int8: return GgufValue.Of(r.ReadArray<sbyte>(count, elements));
            case GgufValueType.UInt16: return GgufValue.Of(r.ReadArray<ushort>(count, elements));
            case GgufValueType.Int16: return GgufValue.Of(r.ReadArray<short>(count, elements));
            case GgufValueType.UInt32: return GgufValue.Of(r.ReadArray<uint>(count, elements));
            case GgufValueType.Int32: return GgufValue.Of(r.ReadArray<int>(count, elements));
            case GgufValueType.Float32: return GgufValue.Of(r.ReadArray<float>(count, elements));
            case GgufValueType.UInt64: return GgufValue.Of(r.ReadArray<ulong>(count, elements));
            case GgufValueType.Int64: return GgufValue.Of(r.ReadArray<long>(count, elements));
            case GgufValueType.Float64: return GgufValue.Of(r.ReadArray<double>(count, elements));
            case GgufValueType.Bool:
            {
                ReadOnlySpan<byte> raw = r.Take(count, elements);
                var bools = new bool[count];
                for (int i = 0; i < bools.Length; i++)
                    bools[i] = raw[i] != 0;
                return GgufValue.Of(bools);
            }
            case GgufValueType.String:
            {
                var strings = new byte[count][];
                for (long i = 0; i < count; i++)
                    strings[i] = r.ReadStringBytes(new("element {1} of '{0}'", key, i));
                return GgufValue.OfStringBytes(strings);
            }
            default: // nested array
            {
                if (depth + 1 >= MaxArrayNesting)
                    throw r.Error($"array '{key}' nests arrays deeper than {MaxArrayNesting} levels", elemAt);
                // Each element is itself an array value without a leading value-type tag:
                // element type + count + elements (gguf-py's writer and reader, spec §1.2).
                var nested = new GgufValue[count];
                for (long i = 0; i < count; i++)
                    nested[i] = ReadArray(ref r, key, depth + 1);
                return GgufValue.Of(nested);
            }
        }
    }

    // Bytes each element needs at minimum; 0 = not a valid element type.
    private static long MinElementBytes(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        GgufValueType.String => 8,
        GgufValueType.Array => MinNestedArrayBytes,
        _ => 0,
    };

    private static long ReadAlignment(GgufMetadata metadata, string path)
    {
        if (!metadata.TryGetValue(AlignmentKey, out var value))
            return DefaultAlignment;
        // gguf.cpp insists on UINT32; accept any integer width, like every other getter, but range-check.
        if (!metadata.TryGetInt64(AlignmentKey, out long alignment) || alignment <= 0 || alignment > (1L << 30) || (alignment & (alignment - 1)) != 0)
            throw new GgufFormatException(path, $"metadata key '{AlignmentKey}' = {value.Value} is not a power of two between 1 and 2^30");
        return alignment;
    }

    private static GgufTensorInfo ReadTensorInfo(ref GgufHeaderReader r, long index)
    {
        string name = GgufValue.Decode(r.ReadStringBytes(new("name of tensor {1}", null, index), MaxKeyBytes));
        long dimsAt = r.Position;
        uint nDims = r.ReadU32(new("n_dims of tensor '{0}'", name));
        if (nDims > MaxDims)
            throw r.Error($"tensor '{name}' has {nDims} dimensions; at most {MaxDims} are allowed", dimsAt);
        // n_dims = 0 means a single element (missing dims count as 1, spec §1.3).
        var shape = new long[Math.Max(1, nDims)];
        shape[0] = 1;
        long elements = 1;
        for (int d = 0; d < nDims; d++)
        {
            long dimAt = r.Position;
            ulong raw = r.ReadU64(new("dimension {1} of tensor '{0}'", name, d));
            if (raw == 0 || raw > long.MaxValue)
                throw r.Error($"tensor '{name}' dimension {d} is {(long)raw} (must be positive)", dimAt);
            shape[d] = (long)raw;
            if (elements > long.MaxValue / shape[d])
                throw r.Error($"tensor '{name}' shape [{string.Join(", ", shape[..(d + 1)])}] overflows a 64-bit element count", dimAt);
            elements *= shape[d];
        }
        long typeAt = r.Position;
        uint typeId = r.ReadU32(new("type of tensor '{0}'", name));
        var type = (GgmlType)typeId;
        if (!GgmlTypeInfo.IsKnown(type))
            throw r.Error($"tensor '{name}' has unknown ggml type id {typeId}", typeAt);
        int blockSize = GgmlTypeInfo.BlockSize(type);
        if (shape[0] % blockSize != 0)
            throw r.Error($"tensor '{name}' of type {type} has ne0 = {shape[0]}, not a multiple of the block size {blockSize}", dimsAt);
        long rowBytes = shape[0] / blockSize * GgmlTypeInfo.BlockBytes(type);
        long rows = elements / shape[0];
        if (rows > long.MaxValue / rowBytes)
            throw r.Error($"tensor '{name}' byte size overflows 64 bits", dimsAt);
        long offset = r.ReadCount(new("data offset of tensor '{0}'", name));
        return new GgufTensorInfo(name, type, shape, offset, rowBytes * rows);
    }

    private static void CheckPlacement(GgufTensorInfo[] tensors, long alignment, long dataOffset, long fileLength, string path)
    {
        long dataLength = fileLength - dataOffset;
        foreach (var t in tensors)
        {
            if (t.Offset % alignment != 0)
                throw new GgufFormatException(path, $"tensor '{t.Name}' offset {t.Offset} is not a multiple of the alignment {alignment}");
            if (dataLength < 0 || t.Offset > dataLength || t.ByteLength > dataLength - t.Offset)
                throw new GgufFormatException(path,
                    $"tensor '{t.Name}' data [{dataOffset} + {t.Offset}, +{t.ByteLength} bytes) lies outside the file ({fileLength} bytes): truncated data or bad offset");
        }
        // Overlap: sort by offset and compare neighbours (writers put tensors back to back, spec §1.4).
        var order = new int[tensors.Length];
        for (int i = 0; i < order.Length; i++)
            order[i] = i;
        Array.Sort(order, (a, b) => tensors[a].Offset.CompareTo(tensors[b].Offset));
        for (int k = 1; k < order.Length; k++)
        {
            var prev = tensors[order[k - 1]];
            var cur = tensors[order[k]];
            if (cur.Offset < prev.Offset + prev.ByteLength)
                throw new GgufFormatException(path,
                    $"tensor '{cur.Name}' at data offset {cur.Offset} overlaps tensor '{prev.Name}' ({prev.Offset} + {prev.ByteLength} bytes)");
        }
    }

    private static string Hex(uint v) => $"{v & 0xFF:X2} {(v >> 8) & 0xFF:X2} {(v >> 16) & 0xFF:X2} {v >> 24:X2}";
}
