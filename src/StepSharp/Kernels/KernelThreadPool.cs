namespace StepSharp.Kernels;

/// <summary>One unit of parallel work: the pool calls <see cref="Execute"/> once for every index in [0, count).</summary>
public interface IParallelJob
{
    void Execute(int index);
}

/// <summary>
/// A fork/join pool for kernels, built for thousands of short parallel sections per token.
/// <see cref="System.Threading.Tasks.Parallel"/> allocates per call and wakes workers through the
/// global queue; here the workers are dedicated threads that spin briefly on a generation counter and
/// then sleep, the caller takes part in the work, and items are claimed through one interlocked counter
/// so a slow core does not hold the others back. Nothing is allocated per <see cref="Run"/>.
/// </summary>
public sealed class KernelThreadPool : IDisposable
{
    private readonly Thread[] _workers;
    private readonly SemaphoreSlim[] _wake;   // one per worker: exactly one release per generation, so no worker can take another's
    private IParallelJob? _job;
    private int _count;
    private int _next;           // next index to claim
    private int _pending;        // workers that have not yet finished the current generation
    private int _generation;
    private volatile bool _disposed;
    private const int SpinIterations = 20_000;

    /// <summary>A pool that runs everything on the calling thread.</summary>
    public static readonly KernelThreadPool Serial = new(1);

    public KernelThreadPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "thread count must be at least 1");
        ThreadCount = threads;
        _workers = new Thread[threads - 1];
        _wake = new SemaphoreSlim[threads - 1];
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

    /// <summary>The default thread count: the machine's cores (hyper-threads rarely help a bandwidth-bound decode).</summary>
    public static int DefaultThreadCount => Math.Max(1, Environment.ProcessorCount);

    /// <summary>Runs <paramref name="job"/> for every index in [0, count) and returns when all are done.</summary>
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
        Volatile.Write(ref _pending, _workers.Length);
        Interlocked.Increment(ref _generation);
        foreach (var wake in _wake) wake.Release();
        Drain(job, count);
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
        _job = null;
    }

    private void Drain(IParallelJob job, int count)
    {
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < count) job.Execute(i);
    }

    private void WorkerLoop(int index)
    {
        int seen = 0;
        SemaphoreSlim wake = _wake[index];
        while (true)
        {
            // Spin first: between two kernels of one token the gap is microseconds, far less than a wake-up.
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && spins < SpinIterations && !_disposed) { Thread.SpinWait(8); spins++; }
            wake.Wait();
            if (_disposed) return;
            seen = Volatile.Read(ref _generation);
            IParallelJob? job = _job;
            if (job is not null) Drain(job, _count);
            Interlocked.Decrement(ref _pending);
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
