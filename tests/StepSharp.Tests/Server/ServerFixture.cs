using System.ClientModel;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenAI;
using StepSharp.Formats;
using StepSharp.Inference;
using StepSharp.Models.Step35;
using StepSharp.Server;

namespace StepSharp.Tests.Server;

/// <summary>The server test classes share these servers and run one after another (they compete for 2 cores).</summary>
[CollectionDefinition(nameof(ServerCollection), DisableParallelization = true)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>;

/// <summary>
/// Real servers on free loopback ports: <see cref="Model"/> runs the tiny random Step 3.5 model (--parallel 4);
/// <see cref="Scripted"/> answers from <see cref="ChatScript"/> through the engine's scripted-output seam and needs an API key.
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const string ApiKey = "test-key-123";
    public const int Parallel = 4;
    public const int Context = 512;
    private static readonly Lazy<byte[]> Image = new(() => Step35RandomModel.Build(Step35ModelShape.Tiny, seed: 3).ToArray());

    public RunningServer Model { get; private set; } = null!;
    public RunningServer Scripted { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Model = await RunningServer.StartAsync(new ServerOptions { Port = 0, LogRequests = false, ModelId = "tiny", MaxRequestBodyBytes = 1 << 20 },
            () => Serve(new BatchingOptions { ContextLength = Context, MaxParallel = Parallel, MaxQueued = 256, PrefillChunk = 16 }, null, "tiny"));
        Scripted = await RunningServer.StartAsync(new ServerOptions { Port = 0, LogRequests = false, ApiKey = ApiKey, ModelId = "scripted" },
            () => Serve(new BatchingOptions { ContextLength = 4096, MaxParallel = 2 }, new ChatScript(), "scripted"));
    }

    public static LoadedModel LoadTiny() => LoadedModel.FromFile(GgufFile.FromBytes(Image.Value, "tiny-random"), 1, "tiny random step35");

    public static ServedModel Serve(BatchingOptions options, IScriptedOutput? script, string id)
    {
        var loaded = LoadTiny();
        return new ServedModel(new BatchingCompletionEngine(loaded, options, script), id);
    }

    public async ValueTask DisposeAsync()
    {
        await Model.DisposeAsync();
        await Scripted.DisposeAsync();
    }
}

/// <summary>A started server with clients pointed at it.</summary>
public sealed class RunningServer : IAsyncDisposable
{
    private RunningServer(StepSharpServer server, string? apiKey)
    {
        Server = server;
        Http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null) Http.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        OpenAI = new OpenAIClient(new ApiKeyCredential(apiKey ?? "unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1/"), NetworkTimeout = TimeSpan.FromSeconds(60) });
    }

    public StepSharpServer Server { get; }
    public HttpClient Http { get; }
    public OpenAIClient OpenAI { get; }

    public static async Task<RunningServer> StartAsync(ServerOptions options, Func<ServedModel> load)
    {
        var server = StepSharpServer.Create(options, load);
        await server.StartAsync();
        await server.Ready;
        return new RunningServer(server, options.ApiKey);
    }

    /// <summary>POSTs JSON; returns the status and the parsed body.</summary>
    public async Task<(int Status, JsonNode? Body)> PostAsync(string path, JsonNode body)
    {
        using var response = await Http.PostAsync(path, new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>POSTs and insists on 200.</summary>
    public async Task<JsonNode> PostOkAsync(string path, JsonNode body)
    {
        var (status, json) = await PostAsync(path, body);
        Assert.True(status == 200, $"{path} answered {status}: {json?.ToJsonString()}");
        return json!;
    }

    /// <summary>A Prometheus sample's value from /metrics.</summary>
    public async Task<double> MetricAsync(string name)
    {
        string text = await Http.GetStringAsync("metrics");
        foreach (string line in text.Split('\n'))
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
                return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        throw new InvalidOperationException($"metric {name} not found in:\n{text}");
    }

    /// <summary>The prompt token ids the server would build for a chat (its template output, tokenized by /tokenize).</summary>
    public async Task<int[]> ChatPromptTokensAsync(JsonArray messages)
    {
        var prompt = (await PostOkAsync("apply-template", new JsonObject { ["messages"] = messages.DeepClone() }))["prompt"]!.GetValue<string>();
        var tokens = (await PostOkAsync("tokenize", new JsonObject { ["content"] = prompt }))["tokens"]!.AsArray();
        return [.. tokens.Select(t => t!.GetValue<int>())];
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// Plays a Step 3.5 model in tests (through the engine's scripted-output seam): asked about the weather it calls
/// <c>get_weather</c>; given a tool result it answers with that result; otherwise it greets. Its reasoning block is
/// closed with <c>&lt;/think&gt;</c> as the real model does (spec §6.2).
/// </summary>
public sealed class ChatScript : IScriptedOutput
{
    public const string Greeting = "Hello there, friend! STOP here.";
    private readonly Lazy<LoadedModel> _tokenizerModel = new(ServerFixture.LoadTiny);

    public IReadOnlyList<int> Next(IReadOnlyList<int> promptTokens)
    {
        var tokenizer = _tokenizerModel.Value.Tokenizer;
        string prompt = tokenizer.Decode([.. promptTokens]);
        string lastUser = prompt[(prompt.LastIndexOf("<|im_start|>user\n", StringComparison.Ordinal) + 1)..];
        string text;
        int response = prompt.LastIndexOf("<tool_response>", StringComparison.Ordinal);
        if (response > prompt.LastIndexOf("<|im_start|>user", StringComparison.Ordinal))
        {
            int start = response + "<tool_response>".Length;
            string result = prompt[start..prompt.IndexOf("</tool_response>", start, StringComparison.Ordinal)];
            text = $"The tool answered.\n</think>\nIt is {result} in Paris.";
        }
        else if (lastUser.Contains("both cities", StringComparison.OrdinalIgnoreCase))
        {
            text = "Two calls.\n</think>\n" + Call("Paris") + "\n" + Call("Oslo");
        }
        else if (lastUser.Contains("weather", StringComparison.OrdinalIgnoreCase))
        {
            text = "I need the weather tool.\n</think>\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>";
        }
        else
        {
            text = $"A greeting is due.\n</think>\n{Greeting}";
        }
        static string Call(string city) => $"<tool_call>\n<function=get_weather>\n<parameter=city>\n{city}\n</parameter>\n</function>\n</tool_call>";
        // Plain bytes (not control tokens), so the text reads back exactly as written.
        return tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
    }
}
