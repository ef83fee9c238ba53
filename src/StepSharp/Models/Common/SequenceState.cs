namespace StepSharp.Models.Common;

/// <summary>
/// The state of one sequence for a transformer with per-layer KV caches: the caches, the step buffers and
/// the position. Models create it; the runtime only moves its position (append, truncate).
/// </summary>
public sealed class SequenceState : IModelState
{
    public SequenceState(object owner, LayerKvCache[] caches, ForwardBuffers buffers, int contextLength)
    {
        Owner = owner;
        Caches = caches;
        Buffers = buffers;
        ContextLength = contextLength;
        Rows = new StepRows(buffers.MaxTokens);
    }

    /// <summary>The rows of this sequence's own steps (<see cref="ICausalLanguageModel.Forward"/>).</summary>
    internal StepRows Rows { get; }
    /// <summary>Tokens this sequence may add to one step: its sliding-window rings hold window + this − 1 rows.</summary>
    public int MaxStepTokens => Buffers.MaxTokens;
    /// <summary>Rows of this sequence in the step being built.</summary>
    internal int PendingRows { get; set; }

    /// <summary>The model that created this state (a state only fits its own model).</summary>
    public object Owner { get; }
    public LayerKvCache[] Caches { get; }
    public ForwardBuffers Buffers { get; }
    public int ContextLength { get; }
    public int Position { get; internal set; }
    public IActivationSink? Activations { get; set; }

    public long KvBytes
    {
        get
        {
            long sum = 0;
            foreach (var c in Caches) sum += c.Bytes;
            return sum;
        }
    }

    public bool TryTruncate(int position)
    {
        if (position < 0 || position > Position) return false;
        foreach (var c in Caches)
            if (!c.CanRewindTo(position, Position)) return false;
        Position = position;
        return true;
    }

    /// <summary>Checks a step of <paramref name="tokens"/> fits the context; the message names the limit.</summary>
    internal void EnsureRoom(int tokens)
    {
        if (Position + tokens > ContextLength)
            throw new ContextOverflowException(Position, tokens, ContextLength);
    }

    public void Dispose() { }
}

/// <summary>A step would run past the context the state was created for.</summary>
public sealed class ContextOverflowException(int position, int tokens, int contextLength)
    : InvalidOperationException($"{position} tokens are in the context and {tokens} more do not fit in the context length of {contextLength}")
{
    public int ContextLength { get; } = contextLength;
}
