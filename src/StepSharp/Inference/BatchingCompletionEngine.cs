using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using StepSharp.Models.Common;

namespace StepSharp.Inference;

/// <summary>
/// Continuous batching: up to <see cref="BatchingOptions.MaxParallel"/> sequences, each with its own KV slot and
/// sampler, advance together. Every step is one forward pass over the next token of each decoding sequence plus
/// prompt chunks of newly admitted ones, so the weights are read once for all of them and a long prompt does not
/// freeze the others. New requests join between steps; one dedicated thread runs the steps.
/// A sequence's results do not depend on its neighbours: batched rows are computed exactly as single ones
/// (MultiSequenceStepTests) and a prompt is always chunked the same way.
/// </summary>
public sealed partial class BatchingCompletionEngine : ICompletionEngine
{
    private readonly TransformerModel _network;
    private readonly BatchingOptions _options;
    private readonly IScriptedOutput? _script;
    private readonly Slot[] _slots;
    private readonly ConcurrentQueue<Job> _waiting = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Thread _loop;
    private readonly long _kvBytesPerPosition;
    private int _queued;
    private int _active;
    private long _completed, _cancelled, _promptTokens, _reusedPromptTokens, _generatedTokens, _steps;
    private volatile bool _disposed;

    public BatchingCompletionEngine(LoadedModel model, BatchingOptions options, IScriptedOutput? script = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _network = model.Model as TransformerModel
            ?? throw new NotSupportedException($"continuous batching needs a transformer model with multi-sequence steps; '{model.Model.Architecture}' has none");
        Model = model;
        _options = options;
        _script = script;
        ContextLength = Math.Min(options.ContextLength, Math.Max(2, model.Model.TrainedContextLength));
        _kvBytesPerPosition = model.Model.KvFootprint(ContextLength, options.PrefillChunk, options.CacheType).BytesPerPosition;
        _slots = new Slot[options.MaxParallel];
        for (int i = 0; i < _slots.Length; i++) _slots[i] = new Slot((SequenceState)_network.CreateState(ContextLength, options.PrefillChunk, options.CacheType));
        int maxRows = options.MaxParallel + options.PrefillTokensPerStep;
        _buffers = _network.CreateStepBuffers(maxRows);
        _rows = new StepRows(maxRows);
        _logits = new float[options.MaxParallel * model.Model.VocabSize];
        _loop = new Thread(RunLoop) { IsBackground = true, Name = "StepSharp batching loop" };
        _loop.Start();
    }

    public LoadedModel Model { get; }
    public int ContextLength { get; }
    public BatchingOptions Options => _options;

    public BatchingMetrics Metrics
    {
        get
        {
            long allocated = 0, tokens = 0;
            foreach (var slot in _slots)
            {
                allocated += slot.State.KvBytes;
                if (Volatile.Read(ref slot.Busy)) tokens += slot.State.Position;
            }
            return new BatchingMetrics(Volatile.Read(ref _active), Volatile.Read(ref _queued), _options.MaxParallel,
                Interlocked.Read(ref _completed), Interlocked.Read(ref _cancelled), Interlocked.Read(ref _promptTokens),
                Interlocked.Read(ref _generatedTokens), Interlocked.Read(ref _steps),
                allocated, tokens, tokens * _kvBytesPerPosition, (long)ContextLength * _slots.Length, Interlocked.Read(ref _reusedPromptTokens));
        }
    }

    public async IAsyncEnumerable<CompletionEvent> StreamAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (request.PromptTokens.Count >= ContextLength) throw new ContextLengthExceededException(request.PromptTokens.Count, ContextLength);
        request.Options.Sampling.Validate();
        // Built here, on the caller's thread: bad options throw to the caller, and the loop only runs steps.
        var job = new Job(new SequenceGeneration(Model.Tokenizer, Model.Model.VocabSize, request.PromptTokens, request.Options), Stopwatch.GetTimestamp(), _wake);
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.Increment(ref _queued) > _options.MaxQueued + FreeSlots())
        {
            Interlocked.Decrement(ref _queued);
            throw new QueueFullException(Volatile.Read(ref _active), _options.MaxQueued);
        }
        _waiting.Enqueue(job);
        _wake.Set();
        using var registration = cancellationToken.Register(static j => ((Job)j!).Cancel(), job);
        try
        {
            await foreach (var e in job.Output.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
                yield return e;
        }
        finally
        {
            // The consumer may stop early (a client went away): the loop frees the slot before its next step.
            job.Cancel();
        }
    }

    /// <summary>Slots not taken (requests about to be admitted may use them, so the queue may be full sooner by that much).</summary>
    private int FreeSlots() => _options.MaxParallel - Volatile.Read(ref _active);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _wake.Set();
        _loop.Join();
        var gone = new ObjectDisposedException(nameof(BatchingCompletionEngine));
        while (_waiting.TryDequeue(out var job)) job.Output.Writer.TryComplete(gone);
        foreach (var slot in _slots) slot.Job?.Output.Writer.TryComplete(gone);
        _wake.Dispose();
    }

    /// <summary>One request: its generation bookkeeping and the channel its events go to.</summary>
    private sealed class Job(SequenceGeneration sequence, long enqueuedAt, ManualResetEventSlim wakeLoop)
    {
        public SequenceGeneration Sequence { get; } = sequence;
        public Channel<CompletionEvent> Output { get; } = Channel.CreateUnbounded<CompletionEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        public long EnqueuedAt { get; } = enqueuedAt;
        public long AdmittedAt;
        public long FirstTokenAt;
        public int ReusedPromptTokens;
        private volatile bool _cancelled;
        public bool Cancelled => _cancelled;
        public void Cancel()
        {
            _cancelled = true;
            try { wakeLoop.Set(); }
            catch (ObjectDisposedException) { } // the engine is gone; nothing left to free
        }
    }

    /// <summary>A KV slot and the job it serves.</summary>
    private sealed class Slot(SequenceState state)
    {
        public SequenceState State = state;
        public Job? Job;
        public bool Busy;               // read by Metrics on other threads
        public int PromptFed;           // prompt tokens already in the cache
        public IReadOnlyList<int>? Script;
        public int LogitIndex = -1;     // row of this step's logits, or -1
        public readonly List<int> Cached = new(); // tokens whose K/V the state holds at positions 0..Count−1 (prefix reuse)
    }
}
