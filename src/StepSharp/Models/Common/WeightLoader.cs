using StepSharp.Formats;
using StepSharp.Tensors;

namespace StepSharp.Models.Common;

/// <summary>
/// Looks up GGUF tensors by name and checks their shapes against what the architecture needs, so a wrong
/// file fails at load time with the tensor's name instead of producing garbage or an out-of-range read.
/// </summary>
public sealed class WeightLoader
{
    private readonly GgufFile _file;

    public WeightLoader(GgufFile file) => _file = file;

    public string Source => _file.Path;

    public bool Has(string name) => _file.HasTensor(name);

    /// <summary>A tensor with exactly the given ggml shape (ne0 first).</summary>
    public TensorView Matrix(string name, params long[] shape)
    {
        TensorView t = _file.TryGetTensor(name) ?? throw new InvalidDataException($"{Source}: tensor '{name}' is missing");
        CheckShape(t, shape);
        if (!GgmlTypeInfo.CanDequantize(t.Type))
            throw new InvalidDataException($"{Source}: tensor '{name}' has type {t.Type}, which this engine cannot compute with");
        return t;
    }

    public TensorView? OptionalMatrix(string name, params long[] shape) => Has(name) ? Matrix(name, shape) : null;

    /// <summary>A small vector (norm weights, biases) copied to F32.</summary>
    public float[] Vector(string name, long length)
    {
        TensorView t = Matrix(name, length);
        return t.ToFloatArray();
    }

    public float[]? OptionalVector(string name, long length) => Has(name) ? Vector(name, length) : null;

    private void CheckShape(in TensorView t, long[] expected)
    {
        long[] actual = t.Shape;
        // ggml drops trailing 1s, so {n} and {n, 1} are the same tensor.
        int n = Math.Max(actual.Length, expected.Length);
        for (int i = 0; i < n; i++)
        {
            long a = i < actual.Length ? actual[i] : 1, e = i < expected.Length ? expected[i] : 1;
            if (a != e)
                throw new InvalidDataException($"{Source}: tensor '{t.Name}' has shape [{string.Join(", ", actual)}], expected [{string.Join(", ", expected)}]");
        }
    }
}
