using StepSharp.Formats;
using StepSharp.Models.Step35;

namespace StepSharp.Inference;

/// <summary>
/// The built-in demo model: a small Step 3.5-architecture network whose random weights are generated from a
/// fixed seed at start-up, in memory (no file, no download). It exercises the whole engine, but its text is
/// meaningless, and everything that shows it says so.
/// </summary>
public static class DemoModel
{
    public const ulong Seed = 20260223;
    public static string Description => $"built-in demo model ({Step35ModelShape.Demo.Name}, Step 3.5 architecture, RANDOM weights from seed {Seed}: the text is meaningless)";

    public static LoadedModel Load(int threads)
    {
        byte[] image = Step35RandomModel.Build(Step35ModelShape.Demo, Seed).ToArray();
        return LoadedModel.FromFile(GgufFile.FromBytes(image, "built-in demo model"), threads, Description);
    }
}
