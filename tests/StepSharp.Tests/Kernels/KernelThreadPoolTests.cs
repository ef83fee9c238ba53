using StepSharp.Kernels;

namespace StepSharp.Tests.Kernels;

public class KernelThreadPoolTests
{
    private sealed class CountingJob(int count) : IParallelJob
    {
        public readonly int[] Hits = new int[count];
        public void Execute(int index) => Interlocked.Increment(ref Hits[index]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryIndexRunsExactlyOnceAcrossManyRuns(int threads)
    {
        using var pool = new KernelThreadPool(threads);
        for (int run = 0; run < 2000; run++)
        {
            int count = 1 + run % 37;
            var job = new CountingJob(count);
            pool.Run(job, count);
            for (int i = 0; i < count; i++) Assert.True(job.Hits[i] == 1, $"run {run}: index {i} ran {job.Hits[i]} times");
        }
    }

    /// <summary>Records which thread ran each index, in order, and takes ~20 µs an item so both threads get some.</summary>
    private sealed class RecordingJob(int count) : IParallelJob
    {
        public readonly int[] Thread = new int[count];
        public readonly int[] Order = new int[count];
        private int _done;
        public void Execute(int index)
        {
            long until = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 50_000;
            while (System.Diagnostics.Stopwatch.GetTimestamp() < until) { }
            Thread[index] = Environment.CurrentManagedThreadId;
            Order[index] = Interlocked.Increment(ref _done);
        }
    }

    [Fact]
    public void EachThreadStartsOnItsOwnContiguousShare()
    {
        // Two threads, 64 items: the caller runs 0, 1, 2, ... and the worker, if it joins, 32, 33, ...; whoever
        // finishes first takes the other's last items (63, 62, ... or 31, 30, ...). A decode matmul's chunks are
        // consecutive rows, so each thread reads one stream.
        using var pool = new KernelThreadPool(2);
        int caller = Environment.CurrentManagedThreadId, workerRuns = 0;
        for (int run = 0; run < 20; run++)
        {
            var job = new RecordingJob(64);
            pool.Run(job, 64);
            int[] mine = Enumerable.Range(0, 64).Where(i => job.Thread[i] == caller).OrderBy(i => job.Order[i]).ToArray();
            int[] theirs = Enumerable.Range(0, 64).Where(i => job.Thread[i] != caller).OrderBy(i => job.Order[i]).ToArray();
            Assert.Equal(64, mine.Length + theirs.Length);
            Assert.Equal(0, mine[0]);
            AssertShareThenSteals(mine, 0, 32, run);
            if (theirs.Length == 0) continue;
            workerRuns++;
            Assert.Equal(32, theirs[0]);
            AssertShareThenSteals(theirs, 32, 64, run);
        }
        Assert.True(workerRuns > 0, "the worker never took part in 20 runs");
    }

    /// <summary>Indices from <paramref name="start"/> up within [start, end), then stolen ones outside it, descending.</summary>
    private static void AssertShareThenSteals(int[] ran, int start, int end, int run)
    {
        int k = 0;
        while (k < ran.Length && ran[k] == start + k && ran[k] < end) k++;
        for (int j = k; j < ran.Length; j++)
        {
            Assert.True(ran[j] < start || ran[j] >= end, $"run {run}: {string.Join(",", ran)} — its own share out of order");
            if (j > k) Assert.True(ran[j] < ran[j - 1], $"run {run}: {string.Join(",", ran)} — steals not from the back");
        }
    }

    [Fact]
    public void RunDoesNotAllocate()
    {
        using var pool = new KernelThreadPool(2);
        var job = new CountingJob(64);
        pool.Run(job, 64); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) pool.Run(job, 64);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void WorkersPickUpWorkAfterSleeping()
    {
        using var pool = new KernelThreadPool(2);
        var job = new CountingJob(8);
        pool.Run(job, 8);
        Thread.Sleep(50); // long enough for the workers to stop spinning and block
        var again = new CountingJob(8);
        pool.Run(again, 8);
        Assert.All(again.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void ASleepingWorkerIsWokenForTheNextJob()
    {
        // The worker blocks after ~100 µs without work, having announced it; Run must then release it. Each item waits
        // (up to 2 s) for the other to start, so the job is only done by two threads if the worker really woke: a caller
        // left alone would run both items itself, one after the other. Rounds alternate a sleep past the spin with none.
        using var pool = new KernelThreadPool(2);
        for (int round = 0; round < 20; round++)
        {
            if (round % 2 == 0) Thread.Sleep(5);
            var job = new MeetingJob();
            pool.Run(job, 2);
            Assert.True(job.Threads.Distinct().Count() == 2, $"round {round}: one thread ran both items (the worker was not woken)");
        }
    }

    private sealed class MeetingJob : IParallelJob
    {
        private int _arrived;
        public readonly int[] Threads = new int[2];

        public void Execute(int index)
        {
            Threads[index] = Environment.CurrentManagedThreadId;
            Interlocked.Increment(ref _arrived);
            var wait = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref _arrived) < 2 && wait.ElapsedMilliseconds < 2000) Thread.SpinWait(10);
        }
    }
}
