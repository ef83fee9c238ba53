using System.Diagnostics;
using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models;
using StepSharp.Models.Common;

namespace StepSharp.Inference;

/// <summary>One row of a benchmark: a prompt-processing (pp) or text-generation (tg) test at a thread count.</summary>
public sealed record BenchmarkRow(string ModelType, long ModelSize, long ModelParameters, int Threads, int NPrompt, int NGen, double[] Samples)
{
    public string Test => NPrompt > 0 ? $"pp{NPrompt}" : $"tg{NGen}";
    public double AvgTokensPerSecond => Samples.Average();
    public double StdDevTokensPerSecond
    {
        get
        {
            if (Samples.Length < 2) return 0;
            double mean = AvgTokensPerSecond, sum = 0;
            foreach (double s in Samples) sum += (s - mean) * (s - mean);
            return Math.Sqrt(sum / (Samples.Length - 1));
        }
    }
}

/// <summary>
/// llama-bench's two measurements on our engine: prompt processing (p tokens in one batch from an empty cache) and
/// text generation (n tokens one at a time from an empty cache), each repeated after one warm-up run. Token ids
/// are random (seeded); sampling is not included, only the forward passes.
/// </summary>
public static class ModelBenchmark
{
    public static BenchmarkRow Run(GgufFile file, int threads, int nPrompt, int nGen, int repetitions, KvCacheType cacheType = KvCacheType.F16)
    {
        if (repetitions < 1) throw new ArgumentOutOfRangeException(nameof(repetitions), repetitions, "repetitions must be at least 1");
        if ((nPrompt > 0) == (nGen > 0)) throw new ArgumentException("a benchmark row is either prompt processing (p > 0) or generation (n > 0)");
        using var pool = new KernelThreadPool(threads);
        using var model = ModelLoader.Load(file, pool);
        int tokens = Math.Max(nPrompt, nGen);
        using var state = model.CreateState(tokens + 1, Math.Max(1, Math.Min(nPrompt, 512)), cacheType);
        var ids = new int[tokens];
        var random = new Random(42);
        for (int i = 0; i < ids.Length; i++) ids[i] = random.Next(model.VocabSize);
        var logits = new float[model.VocabSize];

        var samples = new double[repetitions];
        for (int r = -1; r < repetitions; r++) // r = −1: warm-up (JIT, page cache)
        {
            state.TryTruncate(0);
            long start = Stopwatch.GetTimestamp();
            if (nPrompt > 0) model.Forward(state, ids, logits);
            else for (int i = 0; i < nGen; i++) model.Forward(state, ids.AsSpan(i, 1), logits);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (r >= 0) samples[r] = tokens / seconds;
        }
        long parameters = 0;
        foreach (var t in file.Tensors) { long n = 1; foreach (long d in t.Shape) n *= d; parameters += n; }
        string type = $"{file.Metadata.GetString("general.architecture")} {file.Metadata.GetString("general.name") ?? ""}".Trim();
        return new BenchmarkRow(type, file.FileLength, parameters, threads, nPrompt, nGen, samples);
    }

    /// <summary>
    /// Bytes of weights one decode step reads: every trunk tensor, the selected share of routed-expert tensors
    /// (used / total experts), one embedding row, and not the MTP blocks (they are not run).
    /// </summary>
    public static long ActiveBytesPerToken(GgufFile file)
    {
        var md = file.Metadata;
        string arch = md.GetString("general.architecture") ?? "";
        double expertShare = md.TryGetInt64(arch + ".expert_count", out long experts) && experts > 0
            ? (double)md.GetInt64(arch + ".expert_used_count", experts) / experts : 1.0;
        int trunk = (int)(md.GetInt64(arch + ".block_count", 0) - md.GetInt64(arch + ".nextn_predict_layers", 0));
        double bytes = 0;
        foreach (var t in file.Tensors)
        {
            if (t.Name == "token_embd.weight") { bytes += t.ByteLength / (double)Math.Max(1, t.Shape[^1]); continue; }
            if (GgufTensorNames.BlockIndex(t.Name) >= trunk) continue; // MTP blocks are not run
            bytes += t.Name.Contains("_exps", StringComparison.Ordinal) ? t.ByteLength * expertShare : t.ByteLength;
        }
        if (!file.HasTensor("output.weight") && file.TryGetTensor("token_embd.weight") is { } tied) bytes += tied.ByteLength; // tied LM head
        return (long)bytes;
    }
}
