#pragma warning disable xUnit1051 // requests carry their own timeouts
using StepSharp.Tests.Cli;

namespace StepSharp.Tests.Server;

/// <summary><c>stepsharp serve</c> option checks and <c>stepsharp bench-serve</c> against a running server.</summary>
[Collection(nameof(ServerCollection))]
public class ServeCommandTests(ServerFixture servers)
{
    [Fact]
    public async Task BenchServeReportsEveryTokenAndTtftPercentiles()
    {
        double before = await servers.Model.MetricAsync("stepsharp_generated_tokens_total");
        var (code, stdout, stderr) = await CliRunner.RunAsync("bench-serve", "--url", servers.Model.Server.BaseAddress.ToString(), "-c", "3", "-n", "5", "--max-tokens", "4");
        Assert.True(code == 0, stderr);
        Assert.Contains("requests: 5 (0 failed), clients: 3, completion tokens: 20", stdout);
        Assert.Matches(@"TTFT: p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms", stdout);
        // The server saw the same number of tokens the client counted.
        Assert.Equal(before + 20, await servers.Model.MetricAsync("stepsharp_generated_tokens_total"));
    }

    [Theory]
    [InlineData("--parallel", "0", "--parallel must be at least 1, got 0")]
    [InlineData("--model", "/nonexistent/model.gguf", "does not exist")]
    [InlineData("--port", "70000", "--port must be in 0..65535")]
    public async Task ServeRefusesBadOptionsInOneLine(string option, string value, string message)
    {
        var (code, _, stderr) = await CliRunner.RunAsync("serve", option, value, "--threads", "1");
        Assert.Equal(1, code);
        Assert.Contains(message, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
