using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models.Llama;
using StepSharp.Models.Step35;

namespace StepSharp.Models;

/// <summary>Picks the model class for a GGUF file's <c>general.architecture</c>.</summary>
public static class ModelLoader
{
    public static IReadOnlyList<string> SupportedArchitectures { get; } = [Step35Config.Architecture, LlamaModel.ArchitectureName];

    /// <summary>Builds the model over an open file (first rewriting a private in-memory copy's weights into the kernels' layouts, <see cref="KernelWeightLayouts"/>). With <paramref name="ownsFile"/>, disposing the model closes the file.</summary>
    public static ICausalLanguageModel Load(GgufFile file, KernelThreadPool pool, bool ownsFile = false)
    {
        string arch = file.Metadata.GetString("general.architecture")
            ?? throw new InvalidDataException($"{file.Path}: metadata key 'general.architecture' is missing");
        KernelWeightLayouts.Apply(file);
        return arch switch
        {
            Step35Config.Architecture => Step35Model.Load(file, pool, ownsFile),
            LlamaModel.ArchitectureName => LlamaModel.Load(file, pool, ownsFile),
            _ => throw new NotSupportedException($"{file.Path}: architecture '{arch}' is not supported (supported: {string.Join(", ", SupportedArchitectures)})"),
        };
    }
}
