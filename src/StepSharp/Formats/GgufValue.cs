using System.Text;

namespace StepSharp.Formats;

/// <summary>
/// One metadata value (spec gguf-format.md §1.2). Scalars are boxed once at load time; arrays are typed
/// .NET arrays (byte[], sbyte[], ushort[], short[], uint[], int[], float[], bool[], ulong[], long[],
/// double[], string[]) and nested arrays are GgufValue[] whose elements are arrays themselves.
/// Strings keep their raw bytes too: GGUF does not validate UTF-8 and token strings may not be valid.
/// </summary>
public sealed class GgufValue
{
    private readonly byte[][]? _stringArrayBytes;
    private string[]? _decodedStrings;
    private readonly object? _value;

    private GgufValue(GgufValueType type, GgufValueType elementType, object? value, byte[]? stringBytes, byte[][]? stringArrayBytes)
    {
        Type = type;
        ElementType = elementType;
        _value = value;
        StringBytes = stringBytes;
        _stringArrayBytes = stringArrayBytes;
    }

    public GgufValueType Type { get; }

    /// <summary>For arrays, the element type; for scalars, the same as <see cref="Type"/>.</summary>
    public GgufValueType ElementType { get; }

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>The value: a boxed scalar, a string, or a typed array (string arrays are decoded on first use).</summary>
    public object Value => _value ?? (_decodedStrings ??= DecodeAll(_stringArrayBytes!));

    /// <summary>Number of elements of an array (1 for a scalar).</summary>
    public int Count => !IsArray ? 1 : _stringArrayBytes?.Length ?? ((Array)_value!).Length;

    /// <summary>Raw bytes of a STRING scalar (null otherwise).</summary>
    public byte[]? StringBytes { get; }

    /// <summary>Raw bytes of each element of an array of STRING (null otherwise).</summary>
    public byte[][]? StringArrayBytes => _stringArrayBytes;

    // Scalars.
    public static GgufValue Of(byte v) => Scalar(GgufValueType.UInt8, v);
    public static GgufValue Of(sbyte v) => Scalar(GgufValueType.Int8, v);
    public static GgufValue Of(ushort v) => Scalar(GgufValueType.UInt16, v);
    public static GgufValue Of(short v) => Scalar(GgufValueType.Int16, v);
    public static GgufValue Of(uint v) => Scalar(GgufValueType.UInt32, v);
    public static GgufValue Of(int v) => Scalar(GgufValueType.Int32, v);
    public static GgufValue Of(float v) => Scalar(GgufValueType.Float32, v);
    public static GgufValue Of(bool v) => Scalar(GgufValueType.Bool, v);
    public static GgufValue Of(ulong v) => Scalar(GgufValueType.UInt64, v);
    public static GgufValue Of(long v) => Scalar(GgufValueType.Int64, v);
    public static GgufValue Of(double v) => Scalar(GgufValueType.Float64, v);

    public static GgufValue Of(string v)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new GgufValue(GgufValueType.String, GgufValueType.String, v, Encoding.UTF8.GetBytes(v), null);
    }

    /// <summary>A STRING from raw bytes (not required to be valid UTF-8).</summary>
    public static GgufValue OfStringBytes(byte[] utf8)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        return new GgufValue(GgufValueType.String, GgufValueType.String, Decode(utf8), utf8, null);
    }

    // Arrays.
    public static GgufValue Of(byte[] v) => Array(GgufValueType.UInt8, v);
    public static GgufValue Of(sbyte[] v) => Array(GgufValueType.Int8, v);
    public static GgufValue Of(ushort[] v) => Array(GgufValueType.UInt16, v);
    public static GgufValue Of(short[] v) => Array(GgufValueType.Int16, v);
    public static GgufValue Of(uint[] v) => Array(GgufValueType.UInt32, v);
    public static GgufValue Of(int[] v) => Array(GgufValueType.Int32, v);
    public static GgufValue Of(float[] v) => Array(GgufValueType.Float32, v);
    public static GgufValue Of(bool[] v) => Array(GgufValueType.Bool, v);
    public static GgufValue Of(ulong[] v) => Array(GgufValueType.UInt64, v);
    public static GgufValue Of(long[] v) => Array(GgufValueType.Int64, v);
    public static GgufValue Of(double[] v) => Array(GgufValueType.Float64, v);

    public static GgufValue Of(string[] v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var bytes = new byte[v.Length][];
        for (int i = 0; i < v.Length; i++)
            bytes[i] = Encoding.UTF8.GetBytes(v[i] ?? throw new ArgumentException($"string array element {i} is null", nameof(v)));
        return OfStringBytes(bytes);
    }

    /// <summary>An array of STRING from raw bytes (token strings are not validated UTF-8).</summary>
    public static GgufValue OfStringBytes(byte[][] elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        foreach (byte[] e in elements)
            ArgumentNullException.ThrowIfNull(e, nameof(elements));
        return new GgufValue(GgufValueType.Array, GgufValueType.String, null, null, elements);
    }

    /// <summary>An array of arrays (the spec allows it; llama.cpp rejects it). Every element must be an array.</summary>
    public static GgufValue Of(GgufValue[] nested)
    {
        ArgumentNullException.ThrowIfNull(nested);
        foreach (GgufValue e in nested)
        {
            if (e is null || !e.IsArray)
                throw new ArgumentException("every element of a nested GGUF array must itself be an array", nameof(nested));
        }
        return Array(GgufValueType.Array, nested);
    }

    public override string ToString() => IsArray ? $"{ElementType}[{Count}]" : $"{Type} {Value}";

    internal static string Decode(byte[] utf8) => Encoding.UTF8.GetString(utf8);

    private static string[] DecodeAll(byte[][] raw)
    {
        var result = new string[raw.Length];
        for (int i = 0; i < raw.Length; i++)
            result[i] = Decode(raw[i]);
        return result;
    }

    private static GgufValue Scalar(GgufValueType type, object v) => new(type, type, v, null, null);

    private static GgufValue Array(GgufValueType elementType, System.Array v)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new GgufValue(GgufValueType.Array, elementType, v, null, null);
    }
}
