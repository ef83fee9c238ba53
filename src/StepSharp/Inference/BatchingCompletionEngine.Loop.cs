using System.Diagnostics;
using StepSharp.Models.Common;

namespace StepSharp.Inference;

/// <summary>The step loop of <see cref="BatchingCompletionEngine"/>; runs on its own thread and alone touches the slots.</summary>
public sealed partial class BatchingCompletionEngine
{
    private readonly ForwardBuffers _buffers;
    private readonly StepRows _rows;
    private readonly float[] _logits;

    private void RunLoop()
    {
        while (!_disposed)
        {
            _wake.Reset(); // before looking, so a request or cancellation arriving after the look still wakes us
            FreeCancelledSlots();
            AdmitWaitingJobs();
            if (Volatile.Read(ref _active) == 0)
            {
                if (_waiting.IsEmpty && !_disposed) _wake.Wait();
                continue;
            }
            try
            {
                RunStep();
            }
            catch (Exception e)
            {
                // A failed step leaves the caches of every sequence in it undefined: fail them all, keep serving.
                foreach (var slot in _slots)
                {
                    if (slot.Job is not { } job) continue;
                    slot.Cached.Clear();
                    Release(slot, () => job.Output.Writer.TryComplete(e));
                }
            }
        }
    }

    private void FreeCancelledSlots()
    {
        foreach (var slot in _slots)
        {
            if (slot.Job is not { Cancelled: true } job) continue;
            job.Sequence.Finish(FinishReason.Cancelled);
            Interlocked.Increment(ref _cancelled);
            Complete(slot);
        }
    }

    private void AdmitWaitingJobs()
    {
        while (true)
        {
            bool anyFree = false;
            foreach (var slot in _slots) anyFree |= slot.Job is null;
            if (!anyFree) return;
            Job? job = null;
            while (_waiting.TryDequeue(out var next))
            {
                Interlocked.Decrement(ref _queued);
                if (!next.Cancelled) { job = next; break; }
                next.Output.Writer.TryComplete(new OperationCanceledException("the request was cancelled while it waited"));
                Interlocked.Increment(ref _cancelled);
            }
            if (job is null) return;
            int[] prompt = job.Sequence.Prompt;
            var script = _script?.Next(prompt);

            // Prefix reuse: the free slot whose cache shares the longest prefix with this prompt (agent loops resend
            // the conversation), keeping at least the prompt's last token to compute its logits.
            Slot? best = null;
            int bestCommon = -1;
            foreach (var slot in _slots)
            {
                if (slot.Job is not null) continue;
                int common = PromptPrefix.Reusable(slot.Cached, prompt);
                if (common > bestCommon) { best = slot; bestCommon = common; }
            }
            var chosen = best!;
            int reused = script is null && bestCommon > 0 && chosen.State.TryTruncate(bestCommon) ? bestCommon : 0;
            if (reused > 0)
            {
                chosen.Cached.RemoveRange(reused, chosen.Cached.Count - reused);
            }
            else
            {
                chosen.Cached.Clear();
                if (!chosen.State.TryTruncate(0)) // a sliding ring that cannot rewind: a fresh state (rare, and only per request)
                    chosen.State = (SequenceState)_network.CreateState(ContextLength, _options.PrefillChunk, _options.CacheType);
            }
            chosen.Job = job;
            chosen.PromptFed = reused;
            job.ReusedPromptTokens = reused;
            chosen.Script = script;
            job.AdmittedAt = Stopwatch.GetTimestamp();
            Interlocked.Add(ref _promptTokens, prompt.Length);
            Interlocked.Add(ref _reusedPromptTokens, reused);
            Volatile.Write(ref chosen.Busy, true);
            Interlocked.Increment(ref _active);
            if (job.Sequence.IsFinished) Complete(chosen); // max_tokens 0
        }
    }

    /// <summary>One forward pass over every active sequence, then sampling and streaming for the ones with logits.</summary>
    private void RunStep()
    {
        _rows.Clear();
        int prefillBudget = _options.PrefillTokensPerStep;
        int logitRows = 0;
        foreach (var slot in _slots)
        {
            slot.LogitIndex = -1;
            if (slot.Job is not { } job || slot.Script is not null) continue;
            int[] prompt = job.Sequence.Prompt;
            if (slot.PromptFed == prompt.Length)
            {
                slot.LogitIndex = _rows.Add(slot.State, job.Sequence.LastToken, wantLogits: true);
                slot.Cached.Add(job.Sequence.LastToken);
                logitRows++;
                continue;
            }
            // The next chunk whole or not at all, so chunk boundaries never depend on the other requests.
            int n = Math.Min(_options.PrefillChunk, prompt.Length - slot.PromptFed);
            if (n > prefillBudget) continue;
            prefillBudget -= n;
            for (int i = 0; i < n; i++)
            {
                bool last = slot.PromptFed + i == prompt.Length - 1;
                int index = _rows.Add(slot.State, prompt[slot.PromptFed + i], wantLogits: last);
                if (last) slot.LogitIndex = index;
            }
            slot.Cached.AddRange(prompt.AsSpan(slot.PromptFed, n));
            slot.PromptFed += n;
        }
        if (_rows.Count > 0)
        {
            _network.ForwardBatch(_buffers, _rows, _logits);
            Interlocked.Increment(ref _steps);
        }

        int vocab = Model.Model.VocabSize;
        foreach (var slot in _slots)
        {
            if (slot.Job is not { } job) continue;
            var sequence = job.Sequence;
            GeneratedToken token;
            try
            {
                if (slot.Script is { } script)
                {
                    int i = sequence.Generated.Count;
                    if (i >= script.Count) { sequence.Finish(FinishReason.Stop); Complete(slot); continue; }
                    token = sequence.Accept(script[i], 0, null);
                }
                else if (slot.LogitIndex >= 0)
                {
                    token = sequence.SampleAndAccept(_logits.AsSpan(slot.LogitIndex * vocab, vocab));
                }
                else
                {
                    continue; // prefill not done (or waiting for prefill budget)
                }
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // This request's own settings failed (e.g. a logit bias that bans every token): fail it alone.
                Release(slot, () => job.Output.Writer.TryComplete(e));
                continue;
            }
            if (job.FirstTokenAt == 0) job.FirstTokenAt = Stopwatch.GetTimestamp();
            if (token.TokenId >= 0)
            {
                Interlocked.Increment(ref _generatedTokens);
                job.Output.Writer.TryWrite(new CompletionToken(token));
            }
            if (!sequence.IsFinished && slot.Script is null && slot.State.Position + 1 > ContextLength) sequence.Finish(FinishReason.Length);
            if (sequence.IsFinished) Complete(slot);
        }
    }

    /// <summary>Streams the held-back tail and the result, then frees the slot.</summary>
    private void Complete(Slot slot)
    {
        var job = slot.Job!;
        var sequence = job.Sequence;
        if (!sequence.IsFinished) sequence.Finish(FinishReason.Cancelled);
        if (sequence.FlushTail() is { } tail) job.Output.Writer.TryWrite(new CompletionToken(tail));
        long end = Stopwatch.GetTimestamp();
        long first = job.FirstTokenAt == 0 ? end : job.FirstTokenAt;
        var result = sequence.ToResult(Stopwatch.GetElapsedTime(job.AdmittedAt, first), Stopwatch.GetElapsedTime(first, end),
            Stopwatch.GetElapsedTime(job.EnqueuedAt, first)) with { CachedPromptTokens = job.ReusedPromptTokens };
        if (sequence.FinishReason != FinishReason.Cancelled) Interlocked.Increment(ref _completed);
        Release(slot, () =>
        {
            job.Output.Writer.TryWrite(new CompletionFinished(result));
            job.Output.Writer.TryComplete();
        });
    }

    private void Release(Slot slot, Action notify)
    {
        slot.Job = null;
        slot.Script = null;
        Volatile.Write(ref slot.Busy, false);
        Interlocked.Decrement(ref _active);
        notify();
    }
}
