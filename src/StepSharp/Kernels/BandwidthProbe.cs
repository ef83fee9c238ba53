using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using StepSharp.Tensors;

namespace StepSharp.Kernels;

/// <summary>
/// Measures how fast this machine streams memory into the cores, the bound on decode speed (every weight
/// byte is read once per token). Reads a buffer four times larger than any common L3 with SIMD sums,
/// like a decode matmul does, from <c>threads</c> threads at once.
/// </summary>
public static unsafe class BandwidthProbe
{
    /// <summary>128 MB: well past the 32 MB L3 of the machines we target, so reads come from DRAM.</summary>
    public const long BufferBytes = 128L * 1024 * 1024;

    /// <summary>Read bandwidth in GB/s (10⁹ bytes per second) with <paramref name="threads"/> threads streaming for about <paramref name="budget"/>.</summary>
    public static double MeasureReadGBs(int threads, TimeSpan budget) => MeasureReadGBs(threads, budget, BufferBytes);

    /// <summary>As <see cref="MeasureReadGBs(int, TimeSpan)"/> over a buffer of <paramref name="bufferBytes"/> (benchmarks of the probe itself).</summary>
    internal static double MeasureReadGBs(int threads, TimeSpan budget, long bufferBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (budget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(budget), budget, "the budget must be positive");
        // The same kind of memory as weights read into memory (huge pages where the OS grants them), so the bound
        // is what the best placement of the weights allows.
        using var memory = new LargePageBuffer(bufferBytes);
        byte* buffer = memory.Data;
        {
            // Touch every page first so the measurement does not include page faults.
            for (long at = 0; at < bufferBytes; at += int.MaxValue / 2)
                new Span<byte>(buffer + at, (int)Math.Min(int.MaxValue / 2, bufferBytes - at)).Fill(1);
            long slice = bufferBytes / threads / 64 * 64;
            var bytesRead = new long[threads];
            // Each worker times itself: the caller is a third thread on a 2-core machine and may be scheduled late
            // after the barrier, which once made a 2-thread probe read 60 GB/s (twice the real figure).
            var started = new long[threads];
            var finished = new long[threads];
            long deadline = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);
            using var start = new Barrier(threads + 1);
            var workers = new Thread[threads];
            for (int i = 0; i < threads; i++)
            {
                int index = i;
                workers[i] = new Thread(() =>
                {
                    start.SignalAndWait();
                    started[index] = Stopwatch.GetTimestamp();
                    long read = 0;
                    byte* from = buffer + index * slice;
                    do
                    {
                        Sink(Stream(from, slice));
                        read += slice;
                    }
                    while (Stopwatch.GetTimestamp() < deadline);
                    finished[index] = Stopwatch.GetTimestamp();
                    bytesRead[index] = read;
                }) { IsBackground = true, Name = $"stepsharp-bandwidth-{i}" };
                workers[i].Start();
            }
            start.SignalAndWait();
            foreach (var w in workers) w.Join();
            long first = long.MaxValue, last = long.MinValue, total = 0;
            for (int i = 0; i < threads; i++)
            {
                first = Math.Min(first, started[i]);
                last = Math.Max(last, finished[i]);
                total += bytesRead[i];
            }
            return total / ((double)(last - first) / Stopwatch.Frequency) / 1e9;
        }
    }

    private static int s_sink;

    /// <summary>Keeps the sum observable so the JIT cannot drop the reads.</summary>
    private static void Sink(int value) => Volatile.Write(ref s_sink, value);

    /// <summary>Integer sums: one-cycle adds, so four accumulators keep the loads, not the adds, the limit.</summary>
    private static int Stream(byte* p, long bytes)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (long i = 0; i + 128 <= bytes; i += 128)
            {
                a0 += Vector256.Load((int*)(p + i));
                a1 += Vector256.Load((int*)(p + i + 32));
                a2 += Vector256.Load((int*)(p + i + 64));
                a3 += Vector256.Load((int*)(p + i + 96));
            }
            return Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        int s = 0;
        for (long i = 0; i + 4 <= bytes; i += 64) s += *(int*)(p + i); // one read per cache line still streams every line
        return s;
    }
}
