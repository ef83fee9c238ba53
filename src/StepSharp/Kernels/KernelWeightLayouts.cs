using StepSharp.Formats;
using StepSharp.Tensors;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Kernels;

/// <summary>
/// Rewrites weights, at load, into the layouts the decode kernels read fastest, where that costs nothing more
/// than the load already did: only when the file was read into memory of its own (<see cref="GgufFile.Load"/>,
/// <c>--no-mmap</c>); a mapped file is the page cache's and stays as it is. Today that is Q4_K →
/// <see cref="GgmlType.Q4_KInterleaved"/> (the same bytes rearranged; see <see cref="Dot.Q4_KInterleavedQ8Dot"/>),
/// as llama.cpp repacks Q4_0 for its AArch64/AVX kernels at load. Every kernel, the panel decoder and
/// <see cref="Dequantize"/> read the new layout, so results do not depend on it beyond the order of additions.
/// <c>STEPSHARP_REPACK=0</c> turns it off (to compare).
/// </summary>
public static class KernelWeightLayouts
{
    public const string EnvironmentVariable = "STEPSHARP_REPACK";

    /// <summary>True unless the environment turns rewriting off.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable(EnvironmentVariable) is not ("0" or "false");

    /// <summary>Rewrites every Q4_K tensor of a private in-memory copy (nothing for a mapped file, the scalar tier or when disabled); returns how many.</summary>
    public static unsafe int Apply(GgufFile file)
    {
        if (!Enabled || !file.HoldsPrivateCopy || KernelIsa.Current == Isa.Scalar) return 0;
        int rewritten = 0;
        foreach (GgufTensorInfo info in file.Tensors)
        {
            if (file.GetTensor(info.Name).Type != GgmlType.Q4_K) continue;
            file.ConvertTensorInPlace(info.Name, GgmlType.Q4_KInterleaved,
                view => Q4_KInterleavedBlock.FromQ4_K(view.Data, view.ByteLength / Q4_KInterleavedBlock.Bytes));
            rewritten++;
        }
        return rewritten;
    }
}
