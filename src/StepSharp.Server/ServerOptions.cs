namespace StepSharp.Server;

/// <summary>Settings of <c>stepsharp serve</c>.</summary>
public sealed record ServerOptions
{
    /// <summary>Address to listen on; loopback unless the operator opts in to more.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>TCP port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 8080;
    /// <summary>When set, every route but /health needs <c>Authorization: Bearer KEY</c>.</summary>
    public string? ApiKey { get; init; }
    /// <summary>Name reported by /v1/models and in responses.</summary>
    public string ModelId { get; init; } = "stepsharp";
    /// <summary>Largest request body accepted (HTTP 413 beyond).</summary>
    public long MaxRequestBodyBytes { get; init; } = 8 * 1024 * 1024;
    /// <summary>Largest <c>n</c> (choices per request).</summary>
    public int MaxChoices { get; init; } = 8;
    /// <summary>Log one line per request (id, tokens, TTFT, speed, finish reason); off in tests.</summary>
    public bool LogRequests { get; init; } = true;
}
