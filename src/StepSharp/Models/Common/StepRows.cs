namespace StepSharp.Models.Common;

/// <summary>
/// The rows of one forward step: each row is a token of some sequence at some position. A single-sequence
/// prefill has consecutive positions of one sequence; a continuous-batching step mixes the next token of
/// several sequences (and prompt chunks of new ones). Matrix products run over all rows at once, so the
/// weights are read once per step; attention and the KV cache are per row's sequence.
/// </summary>
public sealed class StepRows
{
    public StepRows(int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "a step needs room for at least one row");
        Tokens = new int[capacity];
        Positions = new int[capacity];
        Sequences = new SequenceState[capacity];
        LogitRows = new int[capacity];
    }

    public int Capacity => Tokens.Length;
    public int Count { get; private set; }
    public readonly int[] Tokens;
    public readonly int[] Positions;
    public readonly SequenceState[] Sequences;
    /// <summary>Rows whose logits are wanted, in the order their logits are written.</summary>
    public readonly int[] LogitRows;
    public int LogitCount { get; private set; }

    public void Clear()
    {
        for (int i = 0; i < Count; i++) Sequences[i].PendingRows = 0;
        Array.Clear(Sequences, 0, Count);
        Count = 0;
        LogitCount = 0;
    }

    /// <summary>Appends the next token of <paramref name="sequence"/>; returns the row's logits index, or −1.</summary>
    public int Add(SequenceState sequence, int token, bool wantLogits)
    {
        if (Count == Capacity) throw new InvalidOperationException($"the step is full ({Capacity} rows)");
        int position = sequence.Position + sequence.PendingRows;
        if (position >= sequence.ContextLength) throw new ContextOverflowException(sequence.Position, sequence.PendingRows + 1, sequence.ContextLength);
        if (sequence.PendingRows >= sequence.MaxStepTokens)
            throw new InvalidOperationException($"a sequence may add at most {sequence.MaxStepTokens} tokens to one step (its sliding-window rings are sized for that)");
        sequence.PendingRows++;
        Tokens[Count] = token;
        Positions[Count] = position;
        Sequences[Count] = sequence;
        Count++;
        if (!wantLogits) return -1;
        LogitRows[LogitCount] = Count - 1;
        return LogitCount++;
    }

    /// <summary>
    /// Appends a row at an explicit position without moving the sequence (MTP heads keep their own cache
    /// positions, spec §3.2). Steps built this way are run layer by layer, never committed.
    /// </summary>
    public void AddAt(SequenceState sequence, int token, int position)
    {
        if (Count == Capacity) throw new InvalidOperationException($"the step is full ({Capacity} rows)");
        if ((uint)position >= (uint)sequence.ContextLength) throw new ContextOverflowException(position, 1, sequence.ContextLength);
        Tokens[Count] = token;
        Positions[Count] = position;
        Sequences[Count] = sequence;
        Count++;
    }

    /// <summary>After the step ran: each sequence's position moves past its rows.</summary>
    internal void Commit()
    {
        for (int i = 0; i < Count; i++)
        {
            var s = Sequences[i];
            s.Position = Math.Max(s.Position, Positions[i] + 1);
        }
        for (int i = 0; i < Count; i++) Sequences[i].PendingRows = 0;
    }
}
