using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace StepSharp.Server;

/// <summary>
/// The OpenAI-compatible HTTP server: Kestrel with the routes of <see cref="Routes"/>. It listens at once and loads
/// the model in the background; until the model is ready /health answers 503 and the API routes 503 "loading".
/// </summary>
public sealed class StepSharpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Func<ServedModel> _load;
    private readonly TaskCompletionSource<ServedModel> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile ServedModel? _model;

    private StepSharpServer(WebApplication app, ServerOptions options, Func<ServedModel> load)
    {
        _app = app;
        _load = load;
        Options = options;
    }

    public ServerOptions Options { get; }
    public ServerMetrics Metrics { get; } = new();
    /// <summary>The model, or null while it loads.</summary>
    public ServedModel? Model => _model;
    /// <summary>Completes when the model is loaded (faults when loading failed).</summary>
    public Task<ServedModel> Ready => _ready.Task;
    /// <summary>Why loading failed, or null.</summary>
    public Exception? LoadError { get; private set; }
    public ILogger Logger { get; private set; } = null!;

    /// <summary>The address the server listens on (with the real port when 0 was asked for); valid after <see cref="StartAsync"/>.</summary>
    public Uri BaseAddress
    {
        get
        {
            var addresses = _app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>();
            string first = addresses?.Addresses.FirstOrDefault() ?? throw new InvalidOperationException("the server is not listening yet");
            return new Uri(first.EndsWith('/') ? first : first + "/");
        }
    }

    /// <param name="load">Builds the model and engine; runs on a background thread after the server started listening.</param>
    public static StepSharpServer Create(ServerOptions options, Func<ServedModel> load)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(load);
        if (options.Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(options), options.Port, "--port must be in 0..65535");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        if (options.LogRequests)
            builder.Logging.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "HH:mm:ss "; })
                .AddFilter("Microsoft", LogLevel.Warning).AddFilter("StepSharp", LogLevel.Information);
        string host = options.Host.Contains(':') && !options.Host.StartsWith('[') ? $"[{options.Host}]" : options.Host;
        builder.WebHost.UseUrls($"http://{host}:{options.Port}");
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        // Ctrl+C should not wait long for streams still running: they are cancelled after this.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
        var app = builder.Build();
        var server = new StepSharpServer(app, options, load);
        server.Logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("StepSharp.Server");
        Routes.Map(app, server);
        return server;
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        Logger.LogInformation("listening on {Address}; loading the model", BaseAddress);
        _ = Task.Run(() =>
        {
            try
            {
                var model = _load();
                _model = model;
                Logger.LogInformation("model ready: {Model}, context {Context}, {Parallel} parallel sequences", model.Engine.Model.Description, model.ContextLength, model.Engine.Options.MaxParallel);
                _ready.TrySetResult(model);
            }
            catch (Exception e)
            {
                LoadError = e;
                Logger.LogError("loading the model failed: {Message}", e.Message);
                _ready.TrySetException(e);
            }
        }, CancellationToken.None);
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        try
        {
            (await _ready.Task.ConfigureAwait(false)).Dispose();
        }
        catch (Exception)
        {
            // loading failed: nothing to dispose
        }
    }
}
