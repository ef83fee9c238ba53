using System.Diagnostics;
using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models;
using StepSharp.Models.Common;

namespace StepSharp.Inference;

/// <summary>One row of a benchmark: a prompt-processing (pp) or text-generation (tg) test at a thread count.</summary>
public sealed record BenchmarkRow(string ModelType, long ModelSize, long ModelParameters, int Threads, int NPrompt, int NGen, double[] Samples, int Depth = 0)
{
    /// <summary>A measurement taken just before each repetition (the memory-read probe's GB/s), when the run was given one.</summary>
    public double[]? ProbeSamples { get; init; }

    /// <summary>llama-bench's test name: pp512, tg128, and "tg128 @ d4096" after a context of 4096 tokens.</summary>
    public string Test => (NPrompt > 0 ? $"pp{NPrompt}" : $"tg{NGen}") + (Depth > 0 ? $" @ d{Depth}" : "");
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
/// llama-bench's two measurements on our engine: prompt processing (p tokens in one batch) and text generation
/// (n tokens one at a time), each repeated after one warm-up run, from an empty cache or, with a depth d, after a
/// context of d tokens that is prefilled untimed (llama-bench's -d: how speed holds up deep into an agent's
/// conversation, where attention reads the whole cache). Token ids are random (seeded); sampling is not
/// included, only the forward passes.
/// </summary>
public static class ModelBenchmark
{
    /// <summary>Chunk size of the untimed depth prefill (and the batch capacity a depth run needs).</summary>
    private const int DepthChunk = 512;

    /// <summary>
    /// Runs one test. <paramref name="probeBefore"/>, when given, is measured just before each timed repetition
    /// (<see cref="BenchmarkRow.ProbeSamples"/>): on a shared machine the memory bandwidth left to us drifts within
    /// seconds, so a bound taken next to each repetition compares like with like.
    /// </summary>
    public static BenchmarkRow Run(GgufFile file, int threads, int nPrompt, int nGen, int repetitions, KvCacheType cacheType = KvCacheType.F16, int depth = 0, Func<double>? probeBefore = null)
    {
        if (repetitions < 1) throw new ArgumentOutOfRangeException(nameof(repetitions), repetitions, "repetitions must be at least 1");
        if ((nPrompt > 0) == (nGen > 0)) throw new ArgumentException("a benchmark row is either prompt processing (p > 0) or generation (n > 0)");
        if (depth < 0) throw new ArgumentOutOfRangeException(nameof(depth), depth, "the depth must not be negative");
        using var pool = new KernelThreadPool(threads);
        using var model = ModelLoader.Load(file, pool);
        int tokens = Math.Max(nPrompt, nGen);
        int batch = Math.Max(1, Math.Min(Math.Max(nPrompt, depth > 0 ? DepthChunk : 0), DepthChunk));
        using var state = model.CreateState(depth + tokens + 1, batch, cacheType);
        var ids = new int[depth + tokens];
        var random = new Random(42);
        for (int i = 0; i < ids.Length; i++) ids[i] = random.Next(model.VocabSize);
        var logits = new float[model.VocabSize];

        var samples = new double[repetitions];
        double[]? probes = probeBefore is null ? null : new double[repetitions];
        for (int r = -1; r < repetitions; r++) // r = −1: warm-up (JIT, page cache)
        {
            // Back to the depth context: rewinding keeps it when the sliding-window rings allow, else refill it.
            if (!state.TryTruncate(depth))
            {
                state.TryTruncate(0);
                for (int at = 0; at < depth; at += DepthChunk)
                    model.Forward(state, ids.AsSpan(at, Math.Min(DepthChunk, depth - at)), logits);
            }
            var timed = ids.AsSpan(depth, tokens);
            if (r >= 0 && probes is not null) probes[r] = probeBefore!();
            long start = Stopwatch.GetTimestamp();
            if (nPrompt > 0) model.Forward(state, timed, logits);
            else for (int i = 0; i < nGen; i++) model.Forward(state, timed.Slice(i, 1), logits);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (r >= 0) samples[r] = tokens / seconds;
        }
        long parameters = 0;
        foreach (var t in file.Tensors) { long n = 1; foreach (long d in t.Shape) n *= d; parameters += n; }
        string type = $"{file.Metadata.GetString("general.architecture")} {file.Metadata.GetString("general.name") ?? ""}".Trim();
        return new BenchmarkRow(type, file.FileLength, parameters, threads, nPrompt, nGen, samples, depth) { ProbeSamples = probes };
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
