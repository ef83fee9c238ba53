using System.Diagnostics;

namespace StepSharp.Kernels;

/// <summary>One unit of parallel work: the pool calls <see cref="Execute"/> once for every index in [0, count).</summary>
public interface IParallelJob
{
    void Execute(int index);
}

/// <summary>
/// A fork/join pool for kernels, built for thousands of short parallel sections per token.
/// <see cref="System.Threading.Tasks.Parallel"/> allocates per call and wakes workers through the global
/// queue; here dedicated workers spin briefly for the next job and then sleep, the caller takes part, and
/// items are claimed through one interlocked counter so a slow core does not hold the others back.
/// The caller never waits for a worker that has not started: workers join a job through a gate that the
/// caller closes once every item is claimed, and only joined workers are waited for. That matters when
/// threads outnumber free cores (shared machines, tests running side by side): a descheduled worker
/// simply misses the job. Nothing is allocated per <see cref="Run"/>.
/// </summary>
public sealed class KernelThreadPool : IDisposable
{
    private const int Closed = 1 << 30;          // gate bit: no more workers may join the current job
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000; // ~100 µs of spinning before sleeping
    private const int SpinIterations = 4;        // pause instructions per check of a flag

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim[] _wake;      // one per worker, released for a job only if the worker sleeps
    private readonly int[] _sleeping;            // 1 while worker i is (about to be) blocked on its semaphore
    private IParallelJob? _job;
    private readonly long[] _shares;             // thread t's unclaimed indices [next, end) at [t * ShareStride]: next low, end high 32 bits
    private const int ShareStride = 8;           // one cache line a share: the threads' claims do not contend
    private int _gate = Closed;                  // joined workers + Closed bit
    private int _generation;
    private volatile bool _disposed;

    public KernelThreadPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "thread count must be at least 1");
        ThreadCount = threads;
        _workers = new Thread[threads - 1];
        _wake = new SemaphoreSlim[threads - 1];
        _sleeping = new int[threads - 1];
        _shares = new long[threads * ShareStride];
        for (int i = 0; i < _workers.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            int index = i;
            _workers[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"stepsharp-kernel-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads that execute jobs, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>The default thread count: the machine's cores.</summary>
    public static int DefaultThreadCount => Math.Max(1, Environment.ProcessorCount);

    /// <summary>Runs <paramref name="job"/> for every index in [0, count) and returns when all are done. Not re-entrant.</summary>
    public void Run(IParallelJob job, int count)
    {
        if (count <= 0) return;
        if (_workers.Length == 0 || count == 1)
        {
            for (int i = 0; i < count; i++) job.Execute(i);
            return;
        }
        ObjectDisposedException.ThrowIf(_disposed, this);
        _job = job;
        // Thread t starts on indices [t·count/T, (t+1)·count/T): a decode matmul's chunks are consecutive rows, so each
        // thread reads one stream instead of every other chunk of it (a new stream each, which the prefetchers have to
        // find again). Mini decode at 2 threads, 6 alternating runs against one shared counter: Q4_K_M median 325 -> 358
        // tok/s (6 of 6 higher), Q8_0 216 -> 227 (5 of 6).
        int threads = _workers.Length + 1;
        for (int t = 0; t < threads; t++)
            _shares[t * ShareStride] = Share((int)((long)t * count / threads), (int)((long)(t + 1) * count / threads));
        Volatile.Write(ref _gate, 0);               // open: workers may join
        Interlocked.Increment(ref _generation);    // a full fence: a worker that has not yet seen it reads it after its _sleeping store
        for (int w = 0; w < _wake.Length; w++)
            if (Volatile.Read(ref _sleeping[w]) != 0) _wake[w].Release();

        Drain(job, 0);

        Interlocked.Or(ref _gate, Closed);          // every item is claimed; late workers stay out
        // Joined workers are mid-item: pause loops, yielding only if one seems descheduled (more threads than cores).
        for (int round = 0; Volatile.Read(ref _gate) != Closed; round++)
            if (round < 1024) Thread.SpinWait(SpinIterations); else Thread.Yield();
        _job = null;
    }

    /// <summary>Runs thread <paramref name="self"/>'s share from its start, then the others' last unclaimed items, until none is left.</summary>
    private void Drain(IParallelJob job, int self)
    {
        int i;
        while ((i = Claim(self, last: false)) >= 0) job.Execute(i);
        int threads = _workers.Length + 1;
        for (int k = 1; k < threads; k++)
        {
            int victim = (self + k) % threads;
            while ((i = Claim(victim, last: true)) >= 0) job.Execute(i);
        }
    }

    private static long Share(int next, int end) => (uint)next | (long)end << 32;

    /// <summary>Takes the first (or last) unclaimed index of thread <paramref name="t"/>'s share; −1 when it has none.</summary>
    private int Claim(int t, bool last)
    {
        ref long share = ref _shares[t * ShareStride];
        while (true)
        {
            long s = Volatile.Read(ref share);
            int next = (int)s, end = (int)(s >> 32);
            if (next >= end) return -1;
            long taken = last ? Share(next, end - 1) : Share(next + 1, end);
            if (Interlocked.CompareExchange(ref share, taken, s) == s) return last ? end - 1 : next;
        }
    }

    private bool TryJoin()
    {
        while (true)
        {
            int gate = Volatile.Read(ref _gate);
            if ((gate & Closed) != 0) return false;
            if (Interlocked.CompareExchange(ref _gate, gate + 1, gate) == gate) return true;
        }
    }

    private void WorkerLoop(int index)
    {
        SemaphoreSlim wake = _wake[index];
        int seen = 0;
        while (!_disposed)
        {
            // Spin first: between two kernels of one token the gap is microseconds, far less than a wake-up. Plain
            // pause loops, not SpinWait.SpinOnce, which turns to sched_yield after a few rounds: a syscall the next job
            // then waits for (2 threads, mini Q4_K_M decode: ~1 % of the worker's samples in __schedule).
            long until = Stopwatch.GetTimestamp() + SpinTicks;
            for (int round = 0; Volatile.Read(ref _generation) == seen; round++)
            {
                Thread.SpinWait(SpinIterations);
                if ((round & 63) == 63 && Stopwatch.GetTimestamp() >= until) break;
            }
            if (Volatile.Read(ref _generation) == seen)
            {
                // Announce the sleep, then look again: Run increments the generation before it reads _sleeping, so
                // either this sees the new job or Run sees the flag and releases the semaphore. A release that finds
                // the worker awake leaves one spare count: the next sleep returns at once and the loop spins again.
                Interlocked.Exchange(ref _sleeping[index], 1);
                if (Volatile.Read(ref _generation) == seen) wake.Wait();
                Volatile.Write(ref _sleeping[index], 0);
            }
            if (_disposed) return;
            if (Volatile.Read(ref _generation) == seen) continue;
            seen = Volatile.Read(ref _generation);
            if (!TryJoin()) continue;
            IParallelJob? job = _job;
            if (job is not null) Drain(job, index + 1);
            Interlocked.Decrement(ref _gate);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var wake in _wake) wake.Release();
        foreach (var w in _workers) w.Join();
        foreach (var wake in _wake) wake.Dispose();
    }
}
