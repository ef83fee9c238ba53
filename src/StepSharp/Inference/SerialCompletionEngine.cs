using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace StepSharp.Inference;

/// <summary>
/// Serves requests one at a time with a single <see cref="TextGenerator"/> on a background thread; requests
/// queue in arrival order. The simple engine for the CLI and the chat client; the server batches instead.
/// </summary>
public sealed class SerialCompletionEngine : ICompletionEngine
{
    private readonly TextGenerator _generator;
    private readonly SemaphoreSlim _turn = new(1, 1);

    public SerialCompletionEngine(LoadedModel model, int contextLength, int batchSize = 64, IScriptedOutput? script = null,
        Models.Common.KvCacheType cacheType = Models.Common.KvCacheType.F16)
    {
        Model = model;
        _generator = new TextGenerator(model, contextLength, batchSize, cacheType) { Script = script };
    }

    public LoadedModel Model { get; }
    public int ContextLength => _generator.ContextLength;

    public async IAsyncEnumerable<CompletionEvent> StreamAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.PromptTokens.Count >= ContextLength) throw new ContextLengthExceededException(request.PromptTokens.Count, ContextLength);
        var channel = Channel.CreateUnbounded<CompletionEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = stop.Token;
        Task worker;
        try
        {
            worker = Task.Factory.StartNew(() =>
            {
                try
                {
                    var result = _generator.Generate(request.PromptTokens, request.Options,
                        t => channel.Writer.TryWrite(new CompletionToken(t)), null, token);
                    channel.Writer.TryWrite(new CompletionFinished(result));
                    channel.Writer.TryComplete();
                }
                catch (Exception e)
                {
                    channel.Writer.TryComplete(e);
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch
        {
            _turn.Release();
            throw;
        }
        try
        {
            await foreach (var e in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                yield return e;
        }
        finally
        {
            // The consumer may stop early (a client went away): stop the generator, and start the next
            // request only after this one really ended.
            stop.Cancel();
            await worker.ConfigureAwait(false);
            _turn.Release();
        }
    }

    public void Dispose()
    {
        _generator.Dispose();
        _turn.Dispose();
    }
}
