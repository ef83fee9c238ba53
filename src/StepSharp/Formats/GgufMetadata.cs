using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace StepSharp.Formats;

/// <summary>
/// The key/value metadata of a GGUF file, in file order. Typed getters are lenient about the stored
/// width (writers disagree: gguf-py writes counts as UINT32 where the spec says UINT64, spec §1.2) but
/// strict about the kind: asking for a string where an integer is stored throws, naming file and key.
/// </summary>
public sealed class GgufMetadata : IReadOnlyDictionary<string, GgufValue>
{
    private readonly Dictionary<string, GgufValue> _values;
    private readonly string[] _keys;
    private readonly string _path;

    internal GgufMetadata(string path, List<KeyValuePair<string, GgufValue>> entries)
    {
        _path = path;
        _values = new Dictionary<string, GgufValue>(entries.Count, StringComparer.Ordinal);
        _keys = new string[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            _keys[i] = entries[i].Key;
            _values.Add(entries[i].Key, entries[i].Value);
        }
    }

    public int Count => _keys.Length;
    /// <summary>The value of <paramref name="key"/>; a missing key throws KeyNotFoundException (the dictionary contract), naming the file.</summary>
    public GgufValue this[string key] =>
        _values.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"{_path}: metadata key '{key}' is missing");

    /// <summary>Keys in file order.</summary>
    public IEnumerable<string> Keys => _keys;
    public IEnumerable<GgufValue> Values
    {
        get
        {
            foreach (string k in _keys)
                yield return _values[k];
        }
    }

    public bool ContainsKey(string key) => _values.ContainsKey(key);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out GgufValue value) => _values.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, GgufValue>> GetEnumerator()
    {
        foreach (string k in _keys)
            yield return new KeyValuePair<string, GgufValue>(k, _values[k]);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The string value, or null when the key is absent.</summary>
    public string? GetString(string key)
    {
        if (!_values.TryGetValue(key, out var v))
            return null;
        return v.Type == GgufValueType.String ? (string)v.Value : throw WrongType(key, v, "a string");
    }

    public string GetRequiredString(string key) => GetString(key) ?? throw Error(key, "is missing (a string is required)");

    /// <summary>Reads an integer of any GGUF integer type; false when absent, throws when not an integer or out of range.</summary>
    public bool TryGetInt64(string key, out long value)
    {
        value = 0;
        if (!_values.TryGetValue(key, out var v))
            return false;
        if (v.IsArray || !TryToInt64(v.Value, out value, out bool outOfRange))
            throw WrongType(key, v, "an integer");
        if (outOfRange)
            throw Error(key, $"value {v.Value} does not fit in a signed 64-bit integer");
        return true;
    }

    public long GetInt64(string key, long defaultValue) => TryGetInt64(key, out long v) ? v : defaultValue;

    public long GetRequiredInt64(string key) => TryGetInt64(key, out long v) ? v : throw Error(key, "is missing (an integer is required)");

    /// <summary>Reads a FLOAT32, FLOAT64 (narrowed) or any integer type as float.</summary>
    public float GetFloat32(string key, float defaultValue)
    {
        if (!_values.TryGetValue(key, out var v))
            return defaultValue;
        if (v.IsArray || !TryToFloat(v.Value, out float f))
            throw WrongType(key, v, "a number");
        return f;
    }

    public bool GetBool(string key, bool defaultValue)
    {
        if (!_values.TryGetValue(key, out var v))
            return defaultValue;
        return v.Type == GgufValueType.Bool ? (bool)v.Value : throw WrongType(key, v, "a bool");
    }

    /// <summary>An array of any numeric element type as floats; null when absent.</summary>
    public float[]? GetFloat32Array(string key)
    {
        if (!TryGetArray(key, out var v))
            return null;
        if (v.Value is float[] floats)
            return (float[])floats.Clone();
        var source = (Array)v.Value;
        var result = new float[source.Length];
        for (int i = 0; i < result.Length; i++)
        {
            if (!TryToFloat(source.GetValue(i)!, out result[i]))
                throw WrongType(key, v, "an array of numbers");
        }
        return result;
    }

    /// <summary>An array of any integer element type as longs (range-checked); null when absent.</summary>
    public long[]? GetInt64Array(string key)
    {
        if (!TryGetArray(key, out var v))
            return null;
        var source = (Array)v.Value;
        var result = new long[source.Length];
        for (int i = 0; i < result.Length; i++)
        {
            if (!TryToInt64(source.GetValue(i)!, out result[i], out bool outOfRange))
                throw WrongType(key, v, "an array of integers");
            if (outOfRange)
                throw Error(key, $"element {i} does not fit in a signed 64-bit integer");
        }
        return result;
    }

    public bool[]? GetBoolArray(string key)
    {
        if (!TryGetArray(key, out var v))
            return null;
        return v.Value is bool[] b ? (bool[])b.Clone() : throw WrongType(key, v, "an array of bools");
    }

    /// <summary>An array of strings, UTF-8 decoded (invalid sequences become U+FFFD); null when absent.</summary>
    public string[]? GetStringArray(string key)
    {
        if (!TryGetArray(key, out var v))
            return null;
        return v.ElementType == GgufValueType.String ? (string[])((string[])v.Value).Clone() : throw WrongType(key, v, "an array of strings");
    }

    /// <summary>An array of strings as raw bytes (token strings are not validated UTF-8); null when absent.</summary>
    public byte[][]? GetStringBytesArray(string key)
    {
        if (!TryGetArray(key, out var v))
            return null;
        return v.StringArrayBytes ?? throw WrongType(key, v, "an array of strings");
    }

    private bool TryGetArray(string key, [MaybeNullWhen(false)] out GgufValue value)
    {
        if (!_values.TryGetValue(key, out value))
            return false;
        return value.IsArray ? true : throw WrongType(key, value, "an array");
    }

    private static bool TryToInt64(object boxed, out long value, out bool outOfRange)
    {
        outOfRange = false;
        switch (boxed)
        {
            case byte b: value = b; return true;
            case sbyte sb: value = sb; return true;
            case ushort us: value = us; return true;
            case short s: value = s; return true;
            case uint ui: value = ui; return true;
            case int i: value = i; return true;
            case long l: value = l; return true;
            case ulong ul:
                outOfRange = ul > long.MaxValue;
                value = outOfRange ? 0 : (long)ul;
                return true;
            default: value = 0; return false;
        }
    }

    private static bool TryToFloat(object boxed, out float value)
    {
        switch (boxed)
        {
            case float f: value = f; return true;
            case double d: value = (float)d; return true;
            case ulong ul: value = ul; return true;
            default:
                bool ok = TryToInt64(boxed, out long l, out _);
                value = l;
                return ok;
        }
    }

    private GgufFormatException WrongType(string key, GgufValue v, string wanted) =>
        Error(key, $"should be {wanted} but is {(v.IsArray ? $"an array of {v.ElementType}" : v.Type.ToString())}");

    private GgufFormatException Error(string key, string problem) => new(_path, $"metadata key '{key}' {problem}");
}
