namespace StepSharp.Models.Common;

/// <summary>
/// K and V of one attention layer, stored after QK-norm and RoPE (spec §2.6), as [slot, kvHead, headDim].
/// A full-attention layer has one slot per position of the context. A sliding-window layer keeps a ring of
/// <c>window + maxBatch − 1</c> slots: enough for the first query of a step to still see its whole window
/// after the step's own keys were written, and for rolling back a rejected speculative step.
/// </summary>
public sealed class LayerKvCache
{
    private readonly float[] _keys;
    private readonly float[] _values;

    public LayerKvCache(int kvHeads, int headDim, int contextLength, int window, int maxBatchTokens)
    {
        KvHeads = kvHeads;
        HeadDim = headDim;
        Window = window;
        Capacity = window > 0 ? Math.Min(contextLength, window + maxBatchTokens - 1) : contextLength;
        long values = (long)Capacity * kvHeads * headDim;
        if (values > Array.MaxLength)
            throw new InsufficientMemoryException($"a KV layer of {Capacity} positions × {kvHeads} heads × {headDim} exceeds one array; lower the context length");
        _keys = new float[values];
        _values = new float[values];
    }

    public int KvHeads { get; }
    public int HeadDim { get; }
    /// <summary>Keys a query sees including itself; 0 = unlimited (full attention).</summary>
    public int Window { get; }
    public int Capacity { get; }
    public bool IsRing => Window > 0 && Capacity < int.MaxValue;
    public int RowLength => KvHeads * HeadDim;
    public long Bytes => 2L * _keys.Length * sizeof(float);

    public int Slot(int position) => Window > 0 ? position % Capacity : position;

    /// <summary>First position a query at <paramref name="position"/> attends to (spec §2.2 step 5: p − W &lt; j ≤ p).</summary>
    public int FirstVisible(int position) => Window > 0 ? Math.Max(0, position - Window + 1) : 0;

    public Span<float> KeyRow(int position) => _keys.AsSpan(Slot(position) * RowLength, RowLength);
    public Span<float> ValueRow(int position) => _values.AsSpan(Slot(position) * RowLength, RowLength);
    public ReadOnlySpan<float> Key(int position, int kvHead) => _keys.AsSpan(Slot(position) * RowLength + kvHead * HeadDim, HeadDim);
    public ReadOnlySpan<float> Value(int position, int kvHead) => _values.AsSpan(Slot(position) * RowLength + kvHead * HeadDim, HeadDim);

    /// <summary>Whether the ring still holds what a query at <paramref name="position"/> needs after going back there.</summary>
    public bool CanRewindTo(int position, int currentPosition)
    {
        if (Window == 0) return true;
        // Slots of positions [position − Window + 1, position) must not have been overwritten by positions < currentPosition.
        int oldestNeeded = Math.Max(0, position - Window + 1);
        return currentPosition - oldestNeeded <= Capacity;
    }
}
