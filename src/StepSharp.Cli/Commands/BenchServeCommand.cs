using System.CommandLine;

namespace StepSharp.Cli.Commands;

/// <summary><c>stepsharp bench-serve</c>: load a running server with concurrent streaming requests; print tokens/s and TTFT percentiles.</summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "server base URL", DefaultValueFactory = _ => "http://127.0.0.1:8080/" };
        var clients = new Option<int>("--clients", "-c") { Description = "concurrent clients", DefaultValueFactory = _ => 4 };
        var requests = new Option<int>("--requests", "-n") { Description = "requests in total", DefaultValueFactory = _ => 16 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "tokens per request", DefaultValueFactory = _ => 64 };
        var prompt = new Option<string>("--prompt", "-p") { Description = "prompt (each request appends its number)", DefaultValueFactory = _ => "Once upon a time" };
        var apiKey = new Option<string?>("--api-key") { Description = "bearer key of the server" };
        var command = new Command("bench-serve", "measure a running server: aggregate tokens/s and time-to-first-token percentiles")
        {
            url, clients, requests, maxTokens, prompt, apiKey,
        };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            int c = parse.GetValue(clients), n = parse.GetValue(requests), m = parse.GetValue(maxTokens);
            if (c < 1) throw new ArgumentException($"--clients must be at least 1, got {c}");
            if (n < 1) throw new ArgumentException($"--requests must be at least 1, got {n}");
            if (m < 1) throw new ArgumentException($"--max-tokens must be at least 1, got {m}");
            string text = parse.GetValue(url)!;
            if (!Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var baseUrl))
                throw new ArgumentException($"--url '{text}' is not an absolute URL");
            var r = await ServeBenchmark.RunAsync(baseUrl, c, n, m, parse.GetValue(prompt)!, parse.GetValue(apiKey), cancellation);
            Console.Out.WriteLine($"requests: {r.Requests} ({r.Failed} failed), clients: {c}, completion tokens: {r.CompletionTokens}, wall: {r.Wall.TotalSeconds:F2} s");
            Console.Out.WriteLine($"aggregate: {r.TokensPerSecond:F1} tokens/s");
            Console.Out.WriteLine($"TTFT: p50 {r.TtftPercentile(50) * 1000:F1} ms, p90 {r.TtftPercentile(90) * 1000:F1} ms, p99 {r.TtftPercentile(99) * 1000:F1} ms");
            return r.Failed == 0 ? 0 : 1;
        }));
        return command;
    }
}
