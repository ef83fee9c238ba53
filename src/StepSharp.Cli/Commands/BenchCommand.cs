using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using StepSharp.Formats;
using StepSharp.Inference;
using StepSharp.Kernels;
using StepSharp.Models.Step35;
using StepSharp.Tensors;

namespace StepSharp.Cli.Commands;

/// <summary>
/// <c>stepsharp bench</c>: prompt and generation tokens/s like llama-bench, plus the decode bandwidth bound
/// (active bytes per token against a quick memory-read probe).
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "GGUF file (default: a random model of --preset shape, built in memory)" };
        var preset = new Option<string>("--preset") { Description = "shape when no --model: demo, tiny, mini", DefaultValueFactory = _ => "mini" };
        var type = new Option<string>("--type") { Description = "weight type of the preset model", DefaultValueFactory = _ => "Q8_0" };
        var prompt = new Option<string>("-p", "--n-prompt") { Description = "prompt lengths, comma-separated (0 = skip)", DefaultValueFactory = _ => "512" };
        var gen = new Option<string>("-n", "--n-gen") { Description = "generation lengths, comma-separated (0 = skip)", DefaultValueFactory = _ => "128" };
        var depth = new Option<string>("-d", "--n-depth") { Description = "context depths, comma-separated: each test runs after that many tokens of context (prefilled untimed)", DefaultValueFactory = _ => "0" };
        var threads = new Option<string>("-t", "--threads") { Description = "thread counts, comma-separated", DefaultValueFactory = _ => KernelThreadPool.DefaultThreadCount.ToString(CultureInfo.InvariantCulture) };
        var reps = new Option<int>("-r", "--repetitions") { Description = "runs per test", DefaultValueFactory = _ => 5 };
        var output = new Option<string>("-o", "--output") { Description = "md or json", DefaultValueFactory = _ => "md" };
        output.AcceptOnlyFromAmong("md", "json");
        var cacheType = CommonOptions.CacheType();
        var noMmap = CommonOptions.NoMmap();
        var command = new Command("bench", "measure prompt processing and generation speed") { model, preset, type, prompt, gen, depth, threads, reps, output, cacheType, noMmap };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            int[] ps = CommaSeparatedInts.Parse(parse.GetValue(prompt)!, "-p"), ns = CommaSeparatedInts.Parse(parse.GetValue(gen)!, "-n"),
                ts = CommaSeparatedInts.Parse(parse.GetValue(threads)!, "-t"), ds = CommaSeparatedInts.Parse(parse.GetValue(depth)!, "-d");
            if (ds.Any(d => d < 0)) throw new ArgumentException("-d: depths must not be negative");
            if (ts.Any(t => t < 1)) throw new ArgumentException("-t: thread counts must be at least 1");
            bool mmap = !parse.GetValue(noMmap) && parse.GetValue(model) is not null; // presets are built in memory
            using var file = Open(parse.GetValue(model), parse.GetValue(preset)!, parse.GetValue(type)!, mmap);
            long active = ModelBenchmark.ActiveBytesPerToken(file);
            var rows = new List<BenchmarkRow>();
            var probes = new Dictionary<int, (double Before, double After)>();
            var kv = CommonOptions.ParseCacheType(parse.GetValue(cacheType));
            foreach (int t in ts)
            {
                // Probed before and after this thread count's tests, the bound from their mean: on a shared machine the
                // bandwidth left by the neighbours drifts over minutes (measured 12–19 GB/s for one kernel loop within
                // an hour), and one probe taken before a long test compares it with another moment.
                double before = BandwidthProbe.MeasureReadGBs(t, TimeSpan.FromSeconds(1));
                foreach (int d in ds)
                {
                    foreach (int p in ps.Where(p => p > 0)) rows.Add(ModelBenchmark.Run(file, t, p, 0, parse.GetValue(reps), kv, d));
                    // Generation is also paired with a short probe before each repetition (see PairedShares).
                    foreach (int n in ns.Where(n => n > 0))
                        rows.Add(ModelBenchmark.Run(file, t, 0, n, parse.GetValue(reps), kv, d, () => BandwidthProbe.MeasureReadGBs(t, PairedProbe)));
                }
                probes[t] = (before, BandwidthProbe.MeasureReadGBs(t, TimeSpan.FromSeconds(1)));
            }
            if (parse.GetValue(output) == "json") WriteJson(rows, active, probes, mmap);
            else WriteMarkdown(rows, active, probes, mmap);
            return Task.FromResult(0);
        }));
        return command;
    }

    private static GgufFile Open(string? path, string preset, string type, bool mmap)
    {
        if (path is not null) return mmap ? GgufFile.Open(path) : GgufFile.Load(path);
        if (!Enum.TryParse(type, ignoreCase: true, out GgmlType weightType) || !Quantize.Supports(weightType))
            throw new ArgumentException($"--type '{type}' is not a type we can write");
        var shape = Step35ModelShape.Preset(preset);
        Console.Error.WriteLine($"building the random {shape.Name} model ({weightType}) in memory…");
        return GgufFile.FromBytes(Step35RandomModel.Build(shape, 1234, weightType).ToArray(), $"{shape.Name}-{weightType}");
    }

    private static double Mean((double Before, double After) probe) => (probe.Before + probe.After) / 2;

    /// <summary>How long the probe taken before each generation repetition reads.</summary>
    private static readonly TimeSpan PairedProbe = TimeSpan.FromSeconds(0.25);

    /// <summary>
    /// Each generation repetition's tokens/s as a share of the bound from the probe taken just before it, sorted:
    /// the bandwidth a shared machine leaves drifts within seconds (a 2-thread probe read 35 and 59 GB/s around one
    /// F32 test), which the bound from the probes around all the tests cannot follow.
    /// </summary>
    private static double[] PairedShares(BenchmarkRow row, long active)
    {
        if (row.ProbeSamples is not { } probes) return [];
        var shares = new double[probes.Length];
        for (int i = 0; i < probes.Length; i++) shares[i] = row.Samples[i] / (probes[i] * 1e9 / active);
        Array.Sort(shares);
        return shares;
    }

    private static double Median(double[] sorted) => sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;

    private static void WriteMarkdown(List<BenchmarkRow> rows, long active, Dictionary<int, (double Before, double After)> probes, bool mmap)
    {
        Console.WriteLine("| model | size | params | threads | test | t/s |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
            Console.WriteLine($"| {r.ModelType} | {r.ModelSize / 1048576.0:F1} MiB | {r.ModelParameters / 1e6:F1} M | {r.Threads} | {r.Test} | {r.AvgTokensPerSecond:F2} ± {r.StdDevTokensPerSecond:F2} |");
        Console.WriteLine();
        Console.WriteLine($"active weights per generated token: {active / 1048576.0:F1} MiB ({(mmap ? "memory-mapped; --no-mmap reads them into huge pages" : "read into memory")})");
        foreach (var (t, probe) in probes)
        {
            double bound = Mean(probe) * 1e9 / active;
            var tg = rows.FirstOrDefault(r => r.Threads == t && r.NGen > 0 && r.Depth == 0);
            string share = tg is null ? "" : $"; tg reaches {100 * tg.AvgTokensPerSecond / bound:F0} % of it";
            Console.WriteLine($"{t} thread(s): memory read {Mean(probe):F1} GB/s (probed {probe.Before:F1} before, {probe.After:F1} after the tests) → decode bound {bound:F1} tokens/s{share}");
            if (tg is not null && PairedShares(tg, active) is { Length: > 0 } paired)
                Console.WriteLine($"  each tg run against a probe just before it ({string.Join(", ", tg.ProbeSamples!.Select(g => g.ToString("F1", CultureInfo.InvariantCulture)))} GB/s): median {100 * Median(paired):F0} % of its bound ({100 * paired[0]:F0}–{100 * paired[^1]:F0} %)");
        }
    }

    private static void WriteJson(List<BenchmarkRow> rows, long active, Dictionary<int, (double Before, double After)> probes, bool mmap)
    {
        var buffer = new MemoryStream();
        using var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true });
        json.WriteStartArray();
        foreach (var r in rows)
        {
            double gbs = Mean(probes[r.Threads]);
            json.WriteStartObject();
            json.WriteString("model_type", r.ModelType);
            json.WriteNumber("model_size", r.ModelSize);
            json.WriteNumber("model_n_params", r.ModelParameters);
            json.WriteNumber("n_threads", r.Threads);
            json.WriteNumber("n_prompt", r.NPrompt);
            json.WriteNumber("n_gen", r.NGen);
            json.WriteNumber("n_depth", r.Depth);
            json.WriteBoolean("use_mmap", mmap);
            json.WriteNumber("avg_ts", r.AvgTokensPerSecond);
            json.WriteNumber("stddev_ts", r.StdDevTokensPerSecond);
            json.WriteStartArray("samples_ts");
            foreach (double s in r.Samples) json.WriteNumberValue(s);
            json.WriteEndArray();
            json.WriteNumber("active_bytes_per_token", active);
            json.WriteNumber("probe_read_gbs", gbs);
            json.WriteNumber("probe_read_gbs_before", probes[r.Threads].Before);
            json.WriteNumber("probe_read_gbs_after", probes[r.Threads].After);
            json.WriteNumber("bandwidth_bound_ts", gbs * 1e9 / active);
            if (r.ProbeSamples is { } paired)
            {
                // Each repetition's own bound: the probe taken just before it.
                json.WriteStartArray("samples_probe_read_gbs");
                foreach (double g in paired) json.WriteNumberValue(g);
                json.WriteEndArray();
                json.WriteNumber("paired_bound_share_median", Median(PairedShares(r, active)));
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.Flush();
        Console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
