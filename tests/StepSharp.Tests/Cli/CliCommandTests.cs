using System.Text.Json;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Cli;

[Collection(nameof(ConsoleCollection))]
public class CliCommandTests
{
    [Theory]
    [InlineData("batch")]
    [InlineData("seq")]
    public async Task LogitsCommandWritesTheConformanceFormat(string mode)
    {
        var reference = ReferenceLogits.Load(TestData.Path("step35-tiny", "logits.f32.text.json"));
        string output = Path.Combine(Path.GetTempPath(), $"stepsharp-logits-{Guid.NewGuid():N}.json");
        try
        {
            var (code, _, stderr) = await CliRunner.RunAsync("logits", "--model", TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"),
                "--tokens", string.Join(",", reference.Tokens), "--output", output, "--mode", mode, "--threads", "2");
            Assert.True(code == 0, stderr);
            using var doc = JsonDocument.Parse(File.ReadAllBytes(output));
            Assert.Equal(reference.Tokens, doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
            var rows = doc.RootElement.GetProperty("logits").EnumerateArray().ToArray();
            Assert.Equal(reference.Tokens.Length, rows.Length);
            float worst = 0;
            for (int t = 0; t < rows.Length; t++)
            {
                float[] row = rows[t].EnumerateArray().Select(e => e.GetSingle()).ToArray();
                Assert.Equal(512, row.Length);
                for (int i = 0; i < row.Length; i++) worst = Math.Max(worst, Math.Abs(row[i] - reference.Batch[t][i]));
            }
            Assert.True(worst <= 1e-3f, $"max |Δlogit| {worst}");
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task LogitsDumpWritesIntermediatesComparableWithLlamaCpp()
    {
        var reference = ReferenceLogits.Load(TestData.Path("step35-tiny", "logits.f32.fixed.json"));
        using var expected = JsonDocument.Parse(File.ReadAllBytes(TestData.Path("step35-tiny", "tensors.f32.fixed.json")));
        string output = Path.Combine(Path.GetTempPath(), $"stepsharp-logits-{Guid.NewGuid():N}.json");
        string dump = Path.ChangeExtension(output, ".dump.json");
        try
        {
            var (code, _, stderr) = await CliRunner.RunAsync("logits", "--model", TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"),
                "--tokens", string.Join(",", reference.Tokens), "--output", output, "--dump", dump);
            Assert.True(code == 0, stderr);
            using var ours = JsonDocument.Parse(File.ReadAllBytes(dump));
            foreach (string name in new[] { "attn_gated-5", "ffn_moe_out-7", "result_norm" })
            {
                var want = expected.RootElement.GetProperty(name);
                var got = ours.RootElement.GetProperty(name);
                Assert.Equal(want.GetProperty("ne").EnumerateArray().Select(e => e.GetInt32()), got.GetProperty("ne").EnumerateArray().Select(e => e.GetInt32()));
                float[] a = got.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                float[] b = want.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                float scale = b.Max(Math.Abs), worst = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
                Assert.True(worst <= 1e-4f * scale, $"{name}: max |Δ| {worst} at scale {scale}");
            }
        }
        finally
        {
            File.Delete(output);
            File.Delete(dump);
        }
    }

    [Fact]
    public async Task GreedyGenerationOnTheDemoModelIsDeterministicAndLabelled()
    {
        string[] args = ["generate", "--prompt", "Hello", "--max-tokens", "24", "--temperature", "0", "--threads", "2"];
        var first = await CliRunner.RunAsync(args);
        var second = await CliRunner.RunAsync(args);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.StartsWith("Hello", first.Stdout);
        Assert.True(first.Stdout.Length > "Hello".Length + 5, $"expected generated text, got '{first.Stdout}'");
        Assert.Equal(first.Stdout, second.Stdout);
        Assert.Contains("RANDOM weights", first.Stderr);
        Assert.Matches(@"generation: 24 tokens, [0-9.]+ tokens/s", first.Stderr);
    }

    [Fact]
    public async Task MtpSpeculativeGenerationPrintsThePlainGreedyText()
    {
        string model = TestData.Path("step35-tiny", "step35-tiny-a-mtpf-f32.gguf");
        string[] common = ["generate", "--model", model, "--prompt", "The little robot", "--temperature", "0", "--max-tokens", "40", "--ignore-eos", "--cache-type", "f32"];
        var plain = await CliRunner.RunAsync(common);
        var speculative = await CliRunner.RunAsync([.. common, "--draft-mtp", "3"]);
        Assert.True(speculative.ExitCode == 0, speculative.Stderr);
        Assert.Equal(plain.Stdout, speculative.Stdout);
        Assert.Matches(@"drafts accepted [1-9][0-9]*/[0-9]+", speculative.Stderr); // this variant's head does agree with the trunk
    }

    [Fact]
    public async Task SeededSamplingIsReproducibleAndSeedsDiffer()
    {
        string[] Args(string seed) => ["generate", "--prompt", "Hi", "--max-tokens", "32", "--temperature", "1", "--top-k", "0", "--top-p", "1", "--min-p", "0", "--seed", seed];
        var a = await CliRunner.RunAsync(Args("7"));
        var b = await CliRunner.RunAsync(Args("7"));
        var c = await CliRunner.RunAsync(Args("8"));
        Assert.Equal(a.Stdout, b.Stdout);
        Assert.NotEqual(a.Stdout, c.Stdout);
    }

    [Fact]
    public async Task InspectShowsTensorsAndKvCache()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("inspect", "--model", TestData.Path("step35-tiny", "step35-tiny-a-q4_k_m.gguf"), "--all");
        Assert.True(code == 0, stderr);
        Assert.Contains("step35", stdout);
        Assert.Contains("blk.8.nextn.eh_proj.weight", stdout);
        Assert.Contains("Q6_K", stdout);
        Assert.Contains("KV cache", stdout);
    }

    [Fact]
    public async Task InspectPresetGivesTheRealModelsKvCostPerToken()
    {
        // Step 3.5 Flash: 12 full layers × 8 KV heads × 128 dims × (K+V) × 4 bytes = 96 KiB per token in F32 (spec §2.6).
        var (code, stdout, _) = await CliRunner.RunAsync("inspect", "--preset", "full", "--ctx", "262144");
        Assert.Equal(0, code);
        Assert.Contains("96.0 KiB", stdout);
        Assert.Contains("48.0 KiB", stdout);
    }

    [Theory]
    [InlineData("does not exist", "generate", "--model", "/nonexistent/model.gguf")]
    [InlineData("'x'", "logits", "--model", "/nonexistent.gguf", "--tokens", "1,x", "--output", "/tmp/never.json")]
    [InlineData("--max-tokens", "generate", "--max-tokens", "-3")]
    [InlineData("exactly one", "inspect")]
    [InlineData("unknown model preset", "inspect", "--preset", "huge")]
    public async Task BadInputGivesOneClearLineAndExitCodeOne(string expected, params string[] args)
    {
        var (code, _, stderr) = await CliRunner.RunAsync(args);
        Assert.Equal(1, code);
        Assert.Contains(expected, stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", stderr); // no stack trace
    }
}
