namespace StepSharp.Inference.Sampling;

/// <summary>
/// Partial selection of the largest logits without sorting the vocabulary: a bounded min-heap of ids keeps the
/// best k seen so far (O(V log k)), then a heap sort orders them best first. Ties go to the lower id, so the
/// order is fully determined by the logits.
/// </summary>
internal static class TopCandidates
{
    /// <summary>
    /// Writes to <paramref name="ids"/> the (up to <paramref name="k"/>) best tokens whose logit is at least
    /// <paramref name="threshold"/>, best first; returns how many. <paramref name="ids"/> needs room for k.
    /// </summary>
    public static int Select(ReadOnlySpan<float> logits, int k, float threshold, Span<int> ids)
    {
        int count = 0;
        if (k <= 0) return 0;
        // Once the heap is full, a token must beat its worst entry; ids only grow, so a tie never does.
        float floor = threshold;
        for (int id = 0; id < logits.Length; id++)
        {
            float v = logits[id];
            if (!(v >= floor)) continue; // also skips NaN
            if (count < k)
            {
                ids[count] = id;
                SiftUp(logits, ids, count++);
                if (count == k) floor = MathF.Max(threshold, logits[ids[0]]);
            }
            else if (v > logits[ids[0]])
            {
                ids[0] = id;
                SiftDown(logits, ids, 0, count);
                floor = logits[ids[0]];
            }
        }
        // Heap sort: repeatedly move the worst to the end, leaving the best first.
        for (int end = count - 1; end > 0; end--)
        {
            (ids[0], ids[end]) = (ids[end], ids[0]);
            SiftDown(logits, ids, 0, end);
        }
        return count;
    }

    /// <summary>True when token a ranks above token b (higher logit, or equal logit and lower id).</summary>
    private static bool Better(ReadOnlySpan<float> logits, int a, int b) =>
        logits[a] > logits[b] || (logits[a] == logits[b] && a < b);

    // Min-heap by rank: the root is the worst kept candidate.
    private static void SiftUp(ReadOnlySpan<float> logits, Span<int> heap, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!Better(logits, heap[parent], heap[i])) break;
            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(ReadOnlySpan<float> logits, Span<int> heap, int i, int count)
    {
        while (true)
        {
            int left = 2 * i + 1;
            if (left >= count) return;
            int worst = left;
            int right = left + 1;
            if (right < count && Better(logits, heap[left], heap[right])) worst = right;
            if (!Better(logits, heap[i], heap[worst])) return;
            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
    }
}
