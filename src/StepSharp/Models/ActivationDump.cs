using System.Text.Json;

namespace StepSharp.Models;

/// <summary>
/// Collects named intermediates for a debug dump, in the format of llama.cpp's graph-callback dumps
/// (<c>{name: {ne: [ne0, ne1, ne2, ne3], data: [...]}}</c>, ne0 fastest), so a layer can be compared with a reference
/// such as testdata/step35-tiny/tensors.f32.fixed.json. A later step with the same name replaces the earlier one.
/// </summary>
public sealed class ActivationDump : IActivationSink
{
    private readonly Dictionary<string, (float[] Data, int[] Shape)> _tensors = new(StringComparer.Ordinal);

    public int Count => _tensors.Count;
    public IReadOnlyDictionary<string, (float[] Data, int[] Shape)> Tensors => _tensors;

    public void Record(string name, ReadOnlySpan<float> data, params int[] shape) => _tensors[name] = (data.ToArray(), shape);

    public void WriteJson(Stream stream)
    {
        using var json = new Utf8JsonWriter(stream);
        json.WriteStartObject();
        foreach (var (name, (data, shape)) in _tensors)
        {
            json.WriteStartObject(name);
            json.WriteStartArray("ne");
            for (int i = 0; i < 4; i++) json.WriteNumberValue(i < shape.Length ? shape[i] : 1);
            json.WriteEndArray();
            json.WriteStartArray("data");
            foreach (float v in data) json.WriteNumberValue(v);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }
}
