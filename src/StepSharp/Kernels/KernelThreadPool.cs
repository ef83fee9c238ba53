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
    private int _count;
    private int _next;                           // next index to claim
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
        _count = count;
        _next = 0;
        Volatile.Write(ref _gate, 0);               // open: workers may join
        Interlocked.Increment(ref _generation);    // a full fence: a worker that has not yet seen it reads it after its _sleeping store
        for (int w = 0; w < _wake.Length; w++)
            if (Volatile.Read(ref _sleeping[w]) != 0) _wake[w].Release();

        Drain(job, count);

        Interlocked.Or(ref _gate, Closed);          // every item is claimed; late workers stay out
        // Joined workers are mid-item: pause loops, yielding only if one seems descheduled (more threads than cores).
        for (int round = 0; Volatile.Read(ref _gate) != Closed; round++)
            if (round < 1024) Thread.SpinWait(SpinIterations); else Thread.Yield();
        _job = null;
    }

    private void Drain(IParallelJob job, int count)
    {
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < count) job.Execute(i);
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
            if (job is not null) Drain(job, _count);
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
