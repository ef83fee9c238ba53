using Microsoft.Extensions.Logging;
using StepSharp.Inference;

namespace StepSharp.Server;

/// <summary>The structured log line and the metrics of one finished generation (a choice of a request).</summary>
internal static class GenerationLog
{
    public static void Record(ServerMetrics metrics, ILogger log, string requestId, int choice, GenerationResult r, string finishReason)
    {
        metrics.RecordGeneration(r, finishReason);
        log.LogInformation("request {RequestId} choice {Choice}: prompt {PromptTokens} tokens, generated {GeneratedTokens}, TTFT {TtftMs:F1} ms, {TokensPerSecond:F1} tokens/s, finish {FinishReason}",
            requestId, choice, r.PromptTokens, r.GeneratedTokens, r.TimeToFirstToken.TotalMilliseconds, r.DecodeTokensPerSecond, finishReason);
    }
}
