using System.Runtime.InteropServices;
using StepSharp.Tensors;

namespace StepSharp.Models.Common;

/// <summary>Element type of the KV cache.</summary>
public enum KvCacheType
{
    /// <summary>4 bytes a value: the reference computation (llama.cpp's conformance runs use it).</summary>
    F32,
    /// <summary>2 bytes a value: the default, as in llama.cpp; moves logits by ~1e-3.</summary>
    F16,
    /// <summary>~1.06 bytes a value (ggml Q8_0 blocks of 32 per head slice).</summary>
    Q8_0,
}

/// <summary>
/// K and V of one attention layer, stored after QK-norm and RoPE (spec §2.6), as [kvHead, slot, headDim]: each KV
/// head's keys (and values) are one contiguous run in position order, which decode's attention reads as one stream
/// per head (see <see cref="CausalAttention"/>).
/// A full-attention layer has one slot per position of the context. A sliding-window layer keeps a ring of
/// <c>window + maxBatch − 1</c> slots: enough for the first query of a step to still see its whole window
/// after the step's own keys were written, and for rolling back a rejected speculative step.
/// </summary>
public sealed class LayerKvCache
{
    private readonly byte[] _keys;
    private readonly byte[] _values;
    private readonly int _headBytes;

    public LayerKvCache(int kvHeads, int headDim, int contextLength, int window, int maxBatchTokens, KvCacheType type = KvCacheType.F32)
    {
        KvHeads = kvHeads;
        HeadDim = headDim;
        Window = window;
        Type = type;
        if (type == KvCacheType.Q8_0 && headDim % 32 != 0)
            throw new ArgumentException($"a Q8_0 KV cache needs a head dimension that is a multiple of 32, not {headDim}");
        _headBytes = HeadBytes(type, headDim);
        Capacity = window > 0 ? Math.Min(contextLength, window + maxBatchTokens - 1) : contextLength;
        long bytes = (long)Capacity * kvHeads * _headBytes;
        if (bytes > Array.MaxLength)
            throw new InsufficientMemoryException($"a KV layer of {Capacity} positions × {kvHeads} heads × {headDim} ({type}) exceeds one array; lower the context length");
        // Pinned: the attention kernel reads F32 rows in place through pointers.
        _keys = GC.AllocateArray<byte>(checked((int)bytes), pinned: true);
        _values = GC.AllocateArray<byte>(checked((int)bytes), pinned: true);
    }

    /// <summary>Bytes one head's K (or V) row takes at one position.</summary>
    public static int HeadBytes(KvCacheType type, int headDim) => type switch
    {
        KvCacheType.F32 => headDim * sizeof(float),
        KvCacheType.F16 => headDim * 2,
        _ => (int)GgmlTypeInfo.RowBytes(GgmlType.Q8_0, headDim),
    };

    public int KvHeads { get; }
    public int HeadDim { get; }
    public KvCacheType Type { get; }
    /// <summary>Keys a query sees including itself; 0 = unlimited (full attention).</summary>
    public int Window { get; }
    public int Capacity { get; }
    public long Bytes => (long)_keys.Length + _values.Length;

    /// <summary>
    /// Whether every value an F16 cache stored so far is finite (values beyond ±65504 become fp16 inf): then its
    /// readers may widen them the cheaper finite way (<see cref="Kernels.HeadVectors.FiniteHalfToSingle"/>). Once an
    /// inf or NaN was stored it stays false for the cache's life, even after the position is rewound.
    /// </summary>
    public bool HoldsOnlyFinite { get; private set; } = true;

    /// <summary>No fp16 inf or NaN (all five exponent bits set) among <paramref name="bits"/>.</summary>
    private static bool AllFinite(ReadOnlySpan<ushort> bits)
    {
        int i = 0;
        var exponent = System.Runtime.Intrinsics.Vector256.Create((ushort)0x7c00);
        for (; i + 16 <= bits.Length; i += 16)
            if (System.Runtime.Intrinsics.Vector256.EqualsAny(System.Runtime.Intrinsics.Vector256.Create(bits.Slice(i, 16)) & exponent, exponent)) return false;
        for (; i < bits.Length; i++)
            if ((bits[i] & 0x7c00) == 0x7c00) return false;
        return true;
    }

    public int Slot(int position) => Window > 0 ? position % Capacity : position;

    /// <summary>First position a query at <paramref name="position"/> attends to (spec §2.2 step 5: p − W &lt; j ≤ p).</summary>
    public int FirstVisible(int position) => Window > 0 ? Math.Max(0, position - Window + 1) : 0;

    /// <summary>Stores the K and V rows (all KV heads) of one position.</summary>
    public void Write(int position, ReadOnlySpan<float> key, ReadOnlySpan<float> value)
    {
        Encode(key, _keys, position);
        Encode(value, _values, position);
    }

    /// <summary>Key of one head at one position; <paramref name="scratch"/> (length HeadDim) holds it unless it is stored as F32.</summary>
    public ReadOnlySpan<float> Key(int position, int kvHead, Span<float> scratch) => Decode(_keys, position, kvHead, scratch);

    public ReadOnlySpan<float> Value(int position, int kvHead, Span<float> scratch) => Decode(_values, position, kvHead, scratch);

    /// <summary>
    /// The stored keys of one head at <paramref name="count"/> consecutive positions from <paramref name="position"/>,
    /// back to back (count × <see cref="HeadBytes"/>) in <see cref="Type"/>'s layout, for kernels that read them in
    /// place; the positions must not wrap around a sliding layer's ring (see <see cref="ContiguousFrom"/>).
    /// </summary>
    public ReadOnlySpan<byte> KeyBytes(int position, int kvHead, int count) => _keys.AsSpan(Offset(position, kvHead, count), count * _headBytes);

    /// <summary>The values of one head at consecutive positions, as <see cref="KeyBytes(int, int, int)"/>.</summary>
    public ReadOnlySpan<byte> ValueBytes(int position, int kvHead, int count) => _values.AsSpan(Offset(position, kvHead, count), count * _headBytes);

    /// <summary>How many positions from <paramref name="position"/> on are stored back to back (before the ring wraps).</summary>
    public int ContiguousFrom(int position) => Capacity - Slot(position);

    private int Offset(int position, int kvHead, int count)
    {
        int slot = Slot(position);
        if ((uint)count > (uint)(Capacity - slot)) throw new ArgumentOutOfRangeException(nameof(count), count, $"positions {position}..{position + count - 1} wrap around the cache's ring of {Capacity} slots");
        return (kvHead * Capacity + slot) * _headBytes;
    }

    private void Encode(ReadOnlySpan<float> row, byte[] store, int position)
    {
        for (int h = 0; h < KvHeads; h++)
        {
            ReadOnlySpan<float> head = row.Slice(h * HeadDim, HeadDim);
            Span<byte> stored = store.AsSpan(Offset(position, h, 1), _headBytes);
            switch (Type)
            {
                case KvCacheType.F32:
                    MemoryMarshal.AsBytes(head).CopyTo(stored);
                    break;
                case KvCacheType.F16:
                    Span<Half> halves = MemoryMarshal.Cast<byte, Half>(stored);
                    System.Numerics.Tensors.TensorPrimitives.ConvertToHalf(head, halves);
                    if (HoldsOnlyFinite && !AllFinite(MemoryMarshal.Cast<Half, ushort>(halves))) HoldsOnlyFinite = false;
                    break;
                default:
                    Quantize.Row(GgmlType.Q8_0, head, stored);
                    break;
            }
        }
    }

    private ReadOnlySpan<float> Decode(byte[] store, int position, int kvHead, Span<float> scratch)
    {
        int offset = Offset(position, kvHead, 1);
        switch (Type)
        {
            case KvCacheType.F32:
                return MemoryMarshal.Cast<byte, float>(store.AsSpan(offset, _headBytes));
            case KvCacheType.F16:
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(store.AsSpan(offset, _headBytes)), scratch);
                return scratch[..HeadDim];
            default:
                Dequantize.Row(GgmlType.Q8_0, store.AsSpan(offset, _headBytes), scratch[..HeadDim]);
                return scratch[..HeadDim];
        }
    }

    /// <summary>Whether the ring still holds what a query at <paramref name="position"/> needs after going back there.</summary>
    public bool CanRewindTo(int position, int currentPosition)
    {
        if (Window == 0 || position == 0) return true;
        // Slots of positions [position − Window + 1, position) must not have been overwritten by positions < currentPosition.
        int oldestNeeded = Math.Max(0, position - Window + 1);
        return currentPosition - oldestNeeded <= Capacity;
    }
}
