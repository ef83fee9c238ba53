using System.CommandLine;
using StepSharp.Inference;
using StepSharp.Server;

namespace StepSharp.Cli.Commands;

/// <summary><c>stepsharp serve</c>: the OpenAI-compatible HTTP server over the continuous-batching engine.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var host = new Option<string>("--host") { Description = "address to listen on (loopback by default; 0.0.0.0 exposes the server to the network)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free port)", DefaultValueFactory = _ => 8080 };
        var ctx = CommonOptions.Context();
        var parallel = new Option<int>("--parallel", "-np") { Description = "sequences generated together (KV slots)", DefaultValueFactory = _ => 4 };
        var queue = new Option<int>("--queue") { Description = "requests that may wait for a slot; more are refused with 503", DefaultValueFactory = _ => 64 };
        var apiKey = new Option<string?>("--api-key") { Description = "require 'Authorization: Bearer KEY' on every route but /health" };
        var threads = CommonOptions.Threads();
        var noMmap = CommonOptions.NoMmap();
        var name = new Option<string?>("--model-name") { Description = "model id reported by /v1/models (default: the file name)" };

        var command = new Command("serve", "serve an OpenAI-compatible HTTP API (chat/completions, completions, models, metrics)")
        {
            model, host, port, ctx, parallel, queue, apiKey, threads, noMmap, name,
        };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            string? path = parse.GetValue(model);
            int threadCount = parse.GetValue(threads);
            if (threadCount < 1) throw new ArgumentException($"--threads must be at least 1, got {threadCount}");
            var batching = new BatchingOptions { ContextLength = parse.GetValue(ctx), MaxParallel = parse.GetValue(parallel), MaxQueued = parse.GetValue(queue) };
            if (batching.MaxParallel < 1) throw new ArgumentException($"--parallel must be at least 1, got {batching.MaxParallel}");
            if (batching.MaxQueued < 0) throw new ArgumentException($"--queue must be 0 or more, got {batching.MaxQueued}");
            if (batching.ContextLength < 2) throw new ArgumentException($"--ctx must be at least 2, got {batching.ContextLength}");
            int portNumber = parse.GetValue(port);
            if (portNumber is < 0 or > 65535) throw new ArgumentException($"--port must be in 0..65535, got {portNumber}");
            var options = new ServerOptions
            {
                Host = parse.GetValue(host) ?? "127.0.0.1",
                Port = portNumber,
                ApiKey = parse.GetValue(apiKey),
                ModelId = parse.GetValue(name) ?? (path is null ? "stepsharp-demo" : Path.GetFileNameWithoutExtension(path)),
            };
            if (path is not null && !File.Exists(path)) throw new FileNotFoundException($"model file '{path}' does not exist", path);
            await using var server = StepSharpServer.Create(options, () =>
            {
                var loaded = CommonOptions.Load(path, threadCount, parse.GetValue(noMmap));
                try
                {
                    return new ServedModel(new BatchingCompletionEngine(loaded, batching), options.ModelId);
                }
                catch
                {
                    loaded.Dispose();
                    throw;
                }
            });
            await server.StartAsync(cancellation);
            Console.Error.WriteLine($"stepsharp serve: listening on {server.BaseAddress} (Ctrl+C to stop)");
            try
            {
                await server.WaitForShutdownAsync(cancellation);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C
            }
            return 0;
        }));
        return command;
    }
}
