using System.CommandLine;
using StepSharp.Inference;
using StepSharp.Kernels;

namespace StepSharp.Cli;

/// <summary>Options shared by the commands that load a model.</summary>
internal static class CommonOptions
{
    public static Option<string?> Model(bool required = false) => new("--model", "-m")
    {
        Description = required ? "GGUF model file" : "GGUF model file (default: the built-in random-weight demo model)",
        Required = required,
    };

    public static Option<int> Threads() => new("--threads", "-t")
    {
        Description = "kernel threads (default: all cores)",
        DefaultValueFactory = _ => KernelThreadPool.DefaultThreadCount,
    };

    public static Option<int> Context(int defaultValue = 4096) => new("--ctx", "-c")
    {
        Description = "context length in tokens",
        DefaultValueFactory = _ => defaultValue,
    };

    public static Option<string> CacheType() => new("--cache-type", "-ctk")
    {
        Description = "KV-cache element type: f16 (default), f32 (exact reference), q8_0",
        DefaultValueFactory = _ => "f16",
    };

    public static Option<bool> NoMmap() => new("--no-mmap")
    {
        Description = "read the model into memory (huge pages: faster decode) instead of memory-mapping it",
    };

    public static Models.Common.KvCacheType ParseCacheType(string? text) => text?.ToLowerInvariant() switch
    {
        "f16" or null => Models.Common.KvCacheType.F16,
        "f32" => Models.Common.KvCacheType.F32,
        "q8_0" => Models.Common.KvCacheType.Q8_0,
        _ => throw new ArgumentException($"--cache-type '{text}' is not f16, f32 or q8_0"),
    };

    /// <summary>Loads the model at <paramref name="path"/>, or the built-in demo model when null.</summary>
    public static LoadedModel Load(string? path, int threads, bool noMmap = false)
    {
        if (threads < 1) throw new ArgumentException($"--threads must be at least 1, got {threads}");
        return path is null ? DemoModel.Load(threads) : LoadedModel.Open(path, threads, mmap: !noMmap);
    }
}
