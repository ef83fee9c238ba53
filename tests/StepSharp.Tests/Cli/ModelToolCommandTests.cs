using System.Text.Json;
using StepSharp.Formats;

namespace StepSharp.Tests.Cli;

[Collection(nameof(ConsoleCollection))]
public class ModelToolCommandTests
{
    [Fact]
    public async Task MakeModelWritesAGgufThatLoadsAndGenerates()
    {
        string path = Path.Combine(Path.GetTempPath(), $"stepsharp-make-{Guid.NewGuid():N}.gguf");
        try
        {
            var made = await CliRunner.RunAsync("make-model", "--preset", "tiny", "--type", "Q8_0", "--output", path, "--seed", "5");
            Assert.True(made.ExitCode == 0, made.Stderr);
            using (var file = GgufFile.Open(path))
            {
                Assert.Equal("step35", file.Metadata.GetString("general.architecture"));
                Assert.Equal(StepSharp.Tensors.GgmlType.Q8_0, file.GetTensor("blk.1.ffn_up_exps.weight").Type);
                Assert.Equal(StepSharp.Tensors.GgmlType.F32, file.GetTensor("blk.1.ffn_gate_inp.weight").Type); // the router stays F32
            }
            var generated = await CliRunner.RunAsync("generate", "--model", path, "--prompt", "ab", "--max-tokens", "8", "--temperature", "0");
            Assert.True(generated.ExitCode == 0, generated.Stderr);
            Assert.Contains("generation: 8 tokens", generated.Stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task BenchReportsLlamaBenchRowsAndTheBandwidthBound()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("bench", "--preset", "tiny", "--type", "Q8_0", "-p", "16", "-n", "8", "-t", "1", "-r", "2", "-o", "json");
        Assert.True(code == 0, stderr);
        var rows = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToArray();
        Assert.Equal(2, rows.Length);
        Assert.Equal(16, rows[0].GetProperty("n_prompt").GetInt32());
        Assert.Equal(8, rows[1].GetProperty("n_gen").GetInt32());
        foreach (var r in rows)
        {
            Assert.Equal(1, r.GetProperty("n_threads").GetInt32());
            Assert.True(r.GetProperty("avg_ts").GetDouble() > 0);
            Assert.True(r.GetProperty("stddev_ts").GetDouble() >= 0);
            Assert.StartsWith("step35", r.GetProperty("model_type").GetString());
            Assert.True(r.GetProperty("model_size").GetInt64() > 0);
            Assert.True(r.GetProperty("bandwidth_bound_ts").GetDouble() > 0);
            // The bound comes from the mean of the probes taken before and after the tests.
            double before = r.GetProperty("probe_read_gbs_before").GetDouble(), after = r.GetProperty("probe_read_gbs_after").GetDouble();
            Assert.True(before > 0 && after > 0);
            Assert.Equal((before + after) / 2, r.GetProperty("probe_read_gbs").GetDouble(), 9);
            Assert.Equal(0, r.GetProperty("n_depth").GetInt32());
            Assert.False(r.GetProperty("use_mmap").GetBoolean()); // a preset model is built in memory
        }
        // Generation repetitions are each paired with a probe taken just before them; prompt processing is not.
        Assert.False(rows[0].TryGetProperty("samples_probe_read_gbs", out _));
        double[] samples = rows[1].GetProperty("samples_ts").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        double[] probes = rows[1].GetProperty("samples_probe_read_gbs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(2, probes.Length);
        Assert.All(probes, g => Assert.True(g > 0));
        long active = rows[1].GetProperty("active_bytes_per_token").GetInt64();
        double[] shares = samples.Select((ts, i) => ts / (probes[i] * 1e9 / active)).ToArray();
        Assert.Equal(shares.Average(), rows[1].GetProperty("paired_bound_share_median").GetDouble(), 9);   // two: their mean
    }

    [Fact]
    public async Task NoMmapReadsTheFileIntoMemoryWithTheSameResults()
    {
        string path = Path.Combine(Path.GetTempPath(), $"stepsharp-nommap-{Guid.NewGuid():N}.gguf");
        try
        {
            var made = await CliRunner.RunAsync("make-model", "--preset", "tiny", "--type", "Q8_0", "--output", path, "--seed", "7");
            Assert.True(made.ExitCode == 0, made.Stderr);
            string[] generate = ["generate", "--model", path, "--prompt", "ab", "--max-tokens", "12", "--temperature", "0", "--threads", "1"];
            var mapped = await CliRunner.RunAsync(generate);
            var read = await CliRunner.RunAsync([.. generate, "--no-mmap"]);
            Assert.True(mapped.ExitCode == 0, mapped.Stderr);
            Assert.True(read.ExitCode == 0, read.Stderr);
            Assert.False(string.IsNullOrWhiteSpace(mapped.Stdout));
            Assert.Equal(mapped.Stdout, read.Stdout);

            foreach (bool noMmap in new[] { false, true })
            {
                string[] bench = ["bench", "-m", path, "-p", "0", "-n", "4", "-t", "1", "-r", "1", "-o", "json"];
                var (code, stdout, stderr) = await CliRunner.RunAsync(noMmap ? [.. bench, "--no-mmap"] : bench);
                Assert.True(code == 0, stderr);
                var row = Assert.Single(JsonDocument.Parse(stdout).RootElement.EnumerateArray());
                Assert.Equal(!noMmap, row.GetProperty("use_mmap").GetBoolean());
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task BenchRunsEachTestAtEveryDepth()
    {
        // Depth 600 is more than one 512-token prefill chunk and, on the tiny model's sliding layers, more than a
        // ring can rewind after a timed prompt, so the context is refilled between repetitions.
        var (code, stdout, stderr) = await CliRunner.RunAsync("bench", "--preset", "tiny", "--type", "Q8_0", "-p", "16", "-n", "4", "-d", "0,600", "-t", "1", "-r", "2");
        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n');
        Assert.Contains(lines, l => l.Contains("| pp16 |"));
        Assert.Contains(lines, l => l.Contains("| tg4 |"));
        Assert.Contains(lines, l => l.Contains("| pp16 @ d600 |"));
        Assert.Contains(lines, l => l.Contains("| tg4 @ d600 |"));

        var (badCode, _, badErr) = await CliRunner.RunAsync("bench", "--preset", "tiny", "-d", "-5", "-t", "1");
        Assert.NotEqual(0, badCode);
        Assert.Contains("-d", badErr);
    }
}
