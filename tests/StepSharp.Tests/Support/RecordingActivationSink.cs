using StepSharp.Models;

namespace StepSharp.Tests.Support;

/// <summary>Keeps a copy of every named intermediate the model reports.</summary>
public sealed class RecordingActivationSink : IActivationSink
{
    public Dictionary<string, (float[] Data, int[] Shape)> Tensors { get; } = new();

    public void Record(string name, ReadOnlySpan<float> data, params int[] shape) => Tensors[name] = (data.ToArray(), shape);
}
