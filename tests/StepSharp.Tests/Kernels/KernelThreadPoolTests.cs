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
