using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using StepSharp.Inference;

namespace StepSharp.Server;

/// <summary>Server counters, written as Prometheus text exposition (GET /metrics) together with the engine's.</summary>
public sealed class ServerMetrics
{
    // Seconds; the time-to-first-token histogram's upper bounds.
    private static readonly double[] TtftBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private readonly ConcurrentDictionary<(string Route, int Status), long> _requests = new();
    private readonly long[] _ttftCounts = new long[TtftBuckets.Length];
    private readonly Lock _lock = new();
    private double _ttftSum;
    private long _ttftCount;
    private double _decodeSeconds;
    private long _decodeTokens;
    private double _lastTokensPerSecond;
    private readonly ConcurrentDictionary<string, long> _finishReasons = new();

    public void RecordRequest(string route, int status) => _requests.AddOrUpdate((route, status), 1, (_, n) => n + 1);

    public long Requests(string route, int status) => _requests.TryGetValue((route, status), out long n) ? n : 0;

    public void RecordGeneration(GenerationResult result, string finishReason)
    {
        _finishReasons.AddOrUpdate(finishReason, 1, (_, n) => n + 1);
        lock (_lock)
        {
            if (result.GeneratedTokens > 0)
            {
                double ttft = result.TimeToFirstToken.TotalSeconds;
                _ttftSum += ttft;
                _ttftCount++;
                for (int i = 0; i < TtftBuckets.Length; i++) if (ttft <= TtftBuckets[i]) _ttftCounts[i]++;
            }
            if (result.GeneratedTokens > 1)
            {
                _decodeSeconds += result.DecodeTime.TotalSeconds;
                _decodeTokens += result.GeneratedTokens - 1;
                _lastTokensPerSecond = result.DecodeTokensPerSecond;
            }
        }
    }

    public string Render(BatchingMetrics? engine, bool ready)
    {
        var s = new StringBuilder();
        Header(s, "stepsharp_ready", "gauge", "1 once the model is loaded");
        Line(s, "stepsharp_ready", "", ready ? 1 : 0);
        Header(s, "stepsharp_http_requests_total", "counter", "HTTP requests by route and status");
        foreach (var ((route, status), n) in _requests.OrderBy(p => p.Key.Route, StringComparer.Ordinal).ThenBy(p => p.Key.Status))
            Line(s, "stepsharp_http_requests_total", $"{{route=\"{route}\",status=\"{status}\"}}", n);
        Header(s, "stepsharp_finished_choices_total", "counter", "generated choices by finish reason");
        foreach (var (reason, n) in _finishReasons.OrderBy(p => p.Key, StringComparer.Ordinal))
            Line(s, "stepsharp_finished_choices_total", $"{{finish_reason=\"{reason}\"}}", n);
        lock (_lock)
        {
            Header(s, "stepsharp_time_to_first_token_seconds", "histogram", "from request arrival at the engine to the first generated token");
            for (int i = 0; i < TtftBuckets.Length; i++)
                Line(s, "stepsharp_time_to_first_token_seconds_bucket", $"{{le=\"{Num(TtftBuckets[i])}\"}}", _ttftCounts[i]);
            Line(s, "stepsharp_time_to_first_token_seconds_bucket", "{le=\"+Inf\"}", _ttftCount);
            Line(s, "stepsharp_time_to_first_token_seconds_sum", "", _ttftSum);
            Line(s, "stepsharp_time_to_first_token_seconds_count", "", _ttftCount);
            Header(s, "stepsharp_decode_tokens_per_second", "gauge", "per-sequence decode speed: mean over all requests and of the last one");
            Line(s, "stepsharp_decode_tokens_per_second", "{window=\"all\"}", _decodeSeconds > 0 ? _decodeTokens / _decodeSeconds : 0);
            Line(s, "stepsharp_decode_tokens_per_second", "{window=\"last\"}", _lastTokensPerSecond);
        }
        if (engine is { } m)
        {
            Gauge(s, "stepsharp_active_sequences", "sequences generating now", m.ActiveSequences);
            Gauge(s, "stepsharp_max_parallel_sequences", "KV slots (--parallel)", m.MaxParallel);
            Gauge(s, "stepsharp_queue_depth", "requests waiting for a slot", m.QueueDepth);
            Counter(s, "stepsharp_requests_completed_total", "engine requests that finished", m.RequestsCompleted);
            Counter(s, "stepsharp_requests_cancelled_total", "engine requests cancelled (client gone)", m.RequestsCancelled);
            Counter(s, "stepsharp_prompt_tokens_total", "prompt tokens admitted", m.PromptTokens);
            Counter(s, "stepsharp_prompt_tokens_cached_total", "prompt tokens whose KV cache was reused from the slot's previous request", m.PromptTokensReused);
            Counter(s, "stepsharp_generated_tokens_total", "tokens generated", m.GeneratedTokens);
            Counter(s, "stepsharp_engine_steps_total", "batched forward steps", m.Steps);
            Gauge(s, "stepsharp_kv_cache_tokens", "positions held in the KV caches of active sequences", m.KvTokensInUse);
            Gauge(s, "stepsharp_kv_cache_token_capacity", "positions all slots can hold", m.KvTokenCapacity);
            Gauge(s, "stepsharp_kv_cache_usage_ratio", "used / capacity", m.KvTokenCapacity > 0 ? (double)m.KvTokensInUse / m.KvTokenCapacity : 0);
            Gauge(s, "stepsharp_kv_cache_bytes_used", "KV bytes holding active positions", m.KvBytesInUse);
            Gauge(s, "stepsharp_kv_cache_bytes_allocated", "KV bytes allocated for all slots", m.KvBytesAllocated);
        }
        return s.ToString();
    }

    private static void Gauge(StringBuilder s, string name, string help, double value) { Header(s, name, "gauge", help); Line(s, name, "", value); }
    private static void Counter(StringBuilder s, string name, string help, double value) { Header(s, name, "counter", help); Line(s, name, "", value); }
    private static void Header(StringBuilder s, string name, string type, string help) => s.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    private static void Line(StringBuilder s, string name, string labels, double value) => s.Append(name).Append(labels).Append(' ').Append(Num(value)).Append('\n');
    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
