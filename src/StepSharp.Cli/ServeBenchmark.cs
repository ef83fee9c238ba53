using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StepSharp.Cli;

/// <summary>The numbers of a <c>bench-serve</c> run.</summary>
internal sealed record ServeBenchmarkResult(int Requests, int Failed, long CompletionTokens, TimeSpan Wall, double[] TtftSeconds)
{
    public double TokensPerSecond => Wall.TotalSeconds > 0 ? CompletionTokens / Wall.TotalSeconds : 0;

    /// <summary>Nearest-rank percentile of the time to first token.</summary>
    public double TtftPercentile(double p)
    {
        if (TtftSeconds.Length == 0) return double.NaN;
        double[] sorted = [.. TtftSeconds.Order()];
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>
/// A small load generator: <c>clients</c> concurrent loops send streaming /v1/completions requests (each prompt
/// different) until <c>requests</c> were sent; it measures the time to the first streamed text and counts
/// completion tokens from the usage chunk.
/// </summary>
internal static class ServeBenchmark
{
    public static async Task<ServeBenchmarkResult> RunAsync(Uri baseUrl, int clients, int requests, int maxTokens, string prompt, string? apiKey, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = Timeout.InfiniteTimeSpan };
        if (apiKey is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        int next = -1, failed = 0;
        long tokens = 0;
        var ttft = new System.Collections.Concurrent.ConcurrentBag<double>();
        var wall = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                try
                {
                    var (first, count) = await OneAsync(http, $"{prompt} #{i}", maxTokens, cancellationToken).ConfigureAwait(false);
                    if (first is { } t) ttft.Add(t);
                    Interlocked.Add(ref tokens, count);
                }
                catch (Exception e) when (e is HttpRequestException or IOException or JsonException or InvalidDataException)
                {
                    Interlocked.Increment(ref failed);
                    Console.Error.WriteLine($"request {i} failed: {e.Message}");
                }
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(loops).ConfigureAwait(false);
        return new ServeBenchmarkResult(requests, failed, tokens, wall.Elapsed, [.. ttft]);
    }

    private static async Task<(double? Ttft, long Tokens)> OneAsync(HttpClient http, string prompt, int maxTokens, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["prompt"] = prompt, ["max_tokens"] = maxTokens, ["temperature"] = 0, ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        double? first = null;
        long tokens = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            string data = line[6..];
            if (data == "[DONE]") break;
            var chunk = JsonNode.Parse(data) ?? throw new InvalidDataException("an empty event");
            if (chunk["error"] is { } error) throw new InvalidDataException(error["message"]?.GetValue<string>() ?? "error event");
            if (first is null && chunk["choices"] is JsonArray { Count: > 0 } choices && choices[0]?["text"]?.GetValue<string>() is { Length: > 0 })
                first = clock.Elapsed.TotalSeconds;
            if (chunk["usage"]?["completion_tokens"] is { } n) tokens = n.GetValue<long>();
        }
        return (first, tokens);
    }
}
