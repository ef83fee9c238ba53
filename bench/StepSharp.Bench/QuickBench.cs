using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using StepSharp.Kernels;
using StepSharp.Kernels.Dot;
using StepSharp.Tensors;

namespace StepSharp.Bench;

/// <summary>
/// `-- quick`: a few-second Stopwatch measurement of decode GB/s and prefill GFLOP/s (old vs new), for
/// development; the BenchmarkDotNet classes are the reference numbers.
/// </summary>
public static unsafe class QuickBench
{
    public static void Run(string[] args)
    {
        if (args.Length >= 3 && args[1] == "rows")
        {
            Rows(Enum.Parse<GgmlType>(args[2]), args.Length > 3 ? int.Parse(args[3]) : 1024);
            return;
        }
        if (args.Length >= 2 && args[1] == "probe")
        {
            // `quick probe`: the bandwidth probe over buffers of several sizes, 1 and 2 threads, alternating.
            for (int round = 0; round < 3; round++)
                foreach (long mb in new long[] { 128, 512, 1024 })
                    foreach (int t in new[] { 1, 2 })
                        Console.WriteLine($"round {round} {mb,5} MB {t}T: {BandwidthProbe.MeasureReadGBs(t, TimeSpan.FromSeconds(1), mb << 20):F1} GB/s");
            return;
        }
        if (args.Length >= 3 && args[1] == "stream")
        {
            Stream(Enum.Parse<GgmlType>(args[2]), args.Length > 3 ? int.Parse(args[3]) : 1024);
            return;
        }
        if (args.Length >= 3 && args[1] == "chunks")
        {
            Chunks(Enum.Parse<GgmlType>(args[2]), args.Length > 3 ? int.Parse(args[3]) : 1024, args.Length > 4 ? int.Parse(args[4]) : 256);
            return;
        }
        if (args.Length >= 2 && args[1] == "attention")
        {
            Attention(args.Length > 2 ? int.Parse(args[2]) : 4096, args.Length > 3 ? int.Parse(args[3]) : 1, args.Length > 4 ? Enum.Parse<StepSharp.Models.Common.KvCacheType>(args[4]) : StepSharp.Models.Common.KvCacheType.F16);
            return;
        }
        if (args.Length >= 2 && args[1] == "forkjoin")
        {
            ForkJoin();
            return;
        }
        if (args.Length >= 3 && args[1] == "kernel")
        {
            Kernel(Enum.Parse<GgmlType>(args[2]), args.Contains("int8"));
            return;
        }
        int threads = KernelThreadPool.DefaultThreadCount;
        using var pool = new KernelThreadPool(threads);
        Console.WriteLine($"isa {KernelIsa.Current}, threads {threads}, probe {BandwidthProbe.MeasureReadGBs(threads, TimeSpan.FromSeconds(1)):F1} GB/s read");
        // `quick decode [INPUTS [TYPE,TYPE...]]`: the types to run (default: all), then exit.
        GgmlType[] decodeTypes = args.Length > 3 ? Array.ConvertAll(args[3].Split(','), Enum.Parse<GgmlType>)
            : [GgmlType.Q8_0, GgmlType.Q8_0Grouped, GgmlType.Q4_K, GgmlType.Q4_KInterleaved, GgmlType.Q6_K, GgmlType.Q6_KInterleaved, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q5_K, GgmlType.BF16, GgmlType.F16, GgmlType.F32];
        foreach (var type in args.Contains("decode") ? decodeTypes : [])
        {
            int copies = type is GgmlType.F32 ? 1 : type is GgmlType.F16 or GgmlType.BF16 ? 2 : 4;
            // `quick decode [INPUTS]`: the row length decides how far ahead the kernels prefetch.
            int inputs = args.Length > 2 && int.TryParse(args[2], out int k) ? k : 11264;
            using var w = new BenchWeights(type, 4096, inputs, copies * 11264 / inputs);
            float[] x = BenchWeights.RandomVector(inputs, 2);
            float[] y = new float[4096];
            double fused = Time(() => { }, c => MatMul.Compute(pool, w.View, (long)(c % w.Copies) * w.Rows, w.Rows, x, 1, y));
            double old = args.Length > 3 ? double.NaN : Time(() => { }, c => DequantizingMatMul.Compute(pool, w.View, (long)(c % w.Copies) * w.Rows, w.Rows, x, 1, y));
            Console.WriteLine($"decode {type,-5} 4096x{inputs}: fused {w.MatrixBytes / fused / 1e9,6:F1} GB/s   dequantize+dot {w.MatrixBytes / old / 1e9,6:F1} GB/s");
        }
        if (args.Length > 3) return;
        using var single = new KernelThreadPool(1);
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.BF16, GgmlType.F16, GgmlType.F32 })
        {
            // L2-resident: the kernel's own speed, the ceiling it puts on decode whatever DRAM delivers.
            using var w = new BenchWeights(type, 128, 4096, 1);
            float[] x = BenchWeights.RandomVector(4096, 2);
            float[] y = new float[128];
            double fused = CpuTime(_ => MatMul.Compute(single, w.View, 0, w.Rows, x, 1, y));
            double old = CpuTime(_ => DequantizingMatMul.Compute(single, w.View, 0, w.Rows, x, 1, y));
            if (type is GgmlType.Q8_0 or GgmlType.Q4_K)
            {
                using var q8 = ActivationQuantization.Enable();
                double integer = CpuTime(_ => MatMul.Compute(single, w.View, 0, w.Rows, x, 1, y));
                Console.WriteLine($"in-cache 1 thread {type,-5} with int8 activations: {w.MatrixBytes / integer / 1e9,6:F1} GB/s");
            }
            Console.WriteLine($"in-cache 1 thread {type,-5}: fused {w.MatrixBytes / fused / 1e9,6:F1} GB/s   dequantize+dot {w.MatrixBytes / old / 1e9,6:F1} GB/s  (per CPU-second)");
        }
        foreach (var type in new[] { GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_K })
        {
            const int rows = 512, inputs = 4096, tokens = 64;
            using var w = new BenchWeights(type, rows, inputs, 1);
            float[] x = BenchWeights.RandomVector(tokens * inputs, 2);
            float[] y = new float[tokens * rows];
            double flops = 2.0 * rows * inputs * tokens;
            double fused = CpuTime(_ => MatMul.Compute(single, w.View, 0, rows, x, tokens, y));
            double old = CpuTime(_ => DequantizingMatMul.Compute(single, w.View, 0, rows, x, tokens, y));
            Console.WriteLine($"prefill 1 thread {type,-5} {rows}x{inputs}x{tokens}: tiled {flops / fused / 1e9,6:F1} GFLOP/s   dequantize+dot {flops / old / 1e9,6:F1} GFLOP/s  (per CPU-second)");
        }
        foreach (var type in args.Contains("prefill") ? new[] { GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_K } : [])
        {
            const int rows = 1024, inputs = 4096, tokens = 64;
            using var w = new BenchWeights(type, rows, inputs, 1);
            float[] x = BenchWeights.RandomVector(tokens * inputs, 2);
            float[] y = new float[tokens * rows];
            double flops = 2.0 * rows * inputs * tokens;
            double fused = Time(() => { }, _ => MatMul.Compute(pool, w.View, 0, rows, x, tokens, y));
            double old = Time(() => { }, _ => DequantizingMatMul.Compute(pool, w.View, 0, rows, x, tokens, y));
            Console.WriteLine($"prefill {type,-5} {rows}x{inputs}x{tokens}: tiled {flops / fused / 1e9,6:F1} GFLOP/s   dequantize+dot {flops / old / 1e9,6:F1} GFLOP/s");
        }
    }

    /// <summary>
    /// `quick kernel TYPE [int8]`: 2 s of one-thread, L2-resident decode matmuls of one type, for `perf stat`
    /// (cycles per byte do not depend on what else the machine runs).
    /// </summary>
    private static void Kernel(GgmlType type, bool int8)
    {
        using var single = new KernelThreadPool(1);
        using var w = new BenchWeights(type, 128, 4096, 1);
        float[] x = BenchWeights.RandomVector(4096, 2);
        float[] y = new float[128];
        using var scope = ActivationQuantization.Enable(int8);
        for (int i = 0; i < 20; i++) MatMul.Compute(single, w.View, 0, w.Rows, x, 1, y);
        var sw = Stopwatch.StartNew();
        long calls = 0;
        while (sw.Elapsed.TotalSeconds < 2) { MatMul.Compute(single, w.View, 0, w.Rows, x, 1, y); calls++; }
        Console.WriteLine($"{type}{(int8 ? " int8" : "")}: {calls * w.MatrixBytes / 1e9:F3} GB streamed in {sw.Elapsed.TotalSeconds:F2} s");
    }

    /// <summary>
    /// `quick rows TYPE [INPUTS]`: the int8-activation kernels called directly on 64 L1/L2-resident rows, single
    /// row and four-row forms, in GB/s of weights: the kernels' own ceiling without the matmul around them.
    /// </summary>
    /// <summary>
    /// `quick forkjoin`: the cost of one <see cref="KernelThreadPool.Run"/> on 2 threads, as a decode step sees it: two
    /// items of ~2 µs work each, then a serial gap on the caller (0, 5 or 20 µs, as norms and routing leave) before the
    /// next run. Prints µs per run beyond the work; compare builds by running each in turn.
    /// </summary>
    /// <summary>
    /// `quick attention [DEPTH [THREADS [TYPE]]]`: one decode row of a full-attention layer of the mini shape (16 query heads,
    /// 2 KV heads, head_dim 128, F16 cache unless TYPE says) at DEPTH positions, hot (the same cache again and again, in L2/L3) and
    /// cold (16 caches in turn, 64+ MB, with a 64 MB stream between calls as decode's weights would be): whether
    /// attention at depth is bound by its arithmetic or by reading the cache. Microseconds a call, medians.
    /// </summary>
    private static void Attention(int depth, int threads, StepSharp.Models.Common.KvCacheType type)
    {
        const int heads = 16, kvHeads = 2, dh = 128, caches = 16;
        var dims = new StepSharp.Models.Common.ForwardDimensions(Hidden: 1024, MaxQueryWidth: heads * dh, MaxKvWidth: kvHeads * dh, MaxHeads: heads, MaxFeedForward: 1024);
        using var pool = new KernelThreadPool(threads);
        var rng = new Random(1);
        float[] row = new float[kvHeads * dh];
        var sequences = new StepSharp.Models.Common.SequenceState[caches];
        for (int c = 0; c < caches; c++)
        {
            var cache = new StepSharp.Models.Common.LayerKvCache(kvHeads, dh, depth + 1, 0, 1, type);
            for (int p = 0; p <= depth; p++)
            {
                for (int i = 0; i < row.Length; i++) row[i] = (float)(rng.NextDouble() * 2 - 1);
                cache.Write(p, row, row);
            }
            sequences[c] = new StepSharp.Models.Common.SequenceState(c, [cache], new StepSharp.Models.Common.ForwardBuffers(dims, 1), depth + 1);
        }
        float[] query = new float[heads * dh], output = new float[heads * dh];
        for (int i = 0; i < query.Length; i++) query[i] = (float)(rng.NextDouble() * 2 - 1);
        var attention = new StepSharp.Models.Common.CausalAttention();
        var step = new StepSharp.Models.Common.StepRows(1);
        using var flush = new LargePageBuffer(64L << 20);
        new Span<byte>(flush.Data, 64 << 20).Fill(1);
        double Call(int c)
        {
            step.Clear();
            step.AddAt(sequences[c], 0, depth);
            long t0 = Stopwatch.GetTimestamp();
            attention.Compute(pool, step, 0, query, output, heads, kvHeads);
            return Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        long kvBytes = 2L * (depth + 1) * kvHeads * StepSharp.Models.Common.LayerKvCache.HeadBytes(type, dh);
        if (Environment.GetEnvironmentVariable("STEPSHARP_ATTENTION_HOT_ONLY") is { } calls)
        {
            // For `perf stat`: nothing but hot calls, so instructions and cycles per call can be read off.
            for (int i = 0; i < int.Parse(calls); i++) Call(0);
            return;
        }
        if (Environment.GetEnvironmentVariable("STEPSHARP_ATTENTION_COLD_ONLY") is { } coldCalls)
        {
            // For `perf record`: cold calls only (each after the flush), to see where the misses land.
            for (int i = 0; i < int.Parse(coldCalls); i++)
            {
                long sink = 0;
                for (long at = 0; at < (64L << 20); at += 64) sink += flush.Data[at];
                GC.KeepAlive(sink);
                Call(1 + i % (caches - 1));
            }
            return;
        }
        for (int round = 0; round < 3; round++)
        {
            var hot = new List<double>(); var cold = new List<double>();
            for (int i = 0; i < 40; i++) hot.Add(Call(0));
            for (int i = 0; i < 40; i++)
            {
                long sink = 0;
                for (long at = 0; at < (64L << 20); at += 64) sink += flush.Data[at];
                GC.KeepAlive(sink);
                cold.Add(Call(1 + i % (caches - 1)));
            }
            hot.Sort(); cold.Sort();
            Console.WriteLine($"attention {type} d{depth} {threads}T: hot {hot[20]:F0} us ({kvBytes / hot[20] / 1e3:F1} GB/s of K/V), cold {cold[20]:F0} us ({kvBytes / cold[20] / 1e3:F1} GB/s)");
        }
    }

    private static void ForkJoin()
    {
        using var pool = new KernelThreadPool(2);
        var job = new SpinJob();
        foreach (int gapNs in new[] { 0, 5_000, 20_000 })
        {
            var samples = new List<double>();
            for (int s = 0; s < 9; s++)
            {
                const int runs = 20_000;
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < runs; i++)
                {
                    pool.Run(job, 2);
                    SpinJob.Busy(gapNs);
                }
                double perRun = Stopwatch.GetElapsedTime(start).TotalMicroseconds / runs;
                samples.Add(perRun - job.WorkNs / 1000.0 - gapNs / 1000.0);
            }
            samples.Sort();
            Console.WriteLine($"gap {gapNs / 1000,2} µs: {samples[samples.Count / 2]:F2} µs per run beyond the work (min {samples[0]:F2})");
        }
    }

    private sealed class SpinJob : IParallelJob
    {
        public readonly int WorkNs = 2_000;
        public void Execute(int index) => Busy(WorkNs);
        public static void Busy(int ns)
        {
            if (ns <= 0) return;
            long until = Stopwatch.GetTimestamp() + ns * Stopwatch.Frequency / 1_000_000_000;
            while (Stopwatch.GetTimestamp() < until) { }
        }
    }

    private static void Rows(GgmlType type, int inputs)
    {
        const int rows = 64;
        using var w = new BenchWeights(type, rows, inputs, 1);
        float[] x = BenchWeights.RandomVector(inputs, 2);
        var q = new sbyte[inputs];
        var d = new float[inputs / 32];
        var sums = new short[inputs / 16];
        var y = new float[rows];
        long rowBytes = GgmlTypeInfo.RowBytes(type, inputs);
        fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d) fixed (short* ps = sums) fixed (float* py = y)
        {
            if (type == GgmlType.Q8_0) Q8Activations.Quantize(px, inputs, pq, pd);
            else Q8KActivations.Quantize(px, inputs, pq, pd, ps);
            byte* baseRow = w.Data;
            sbyte* qq = pq; float* dd = pd; short* ss = ps; float* yy = py;
            void Single()
            {
                for (int r = 0; r < rows; r++)
                    yy[r] = type switch
                    {
                        GgmlType.Q8_0 => Q8Activations.Dot(KernelIsa.Current, baseRow + r * rowBytes, qq, dd, inputs),
                        GgmlType.Q6_K => Q6_KQ8Dot.Dot(KernelIsa.Current, baseRow + r * rowBytes, qq, dd, ss, inputs),
                        _ => Q4_KQ8Dot.Dot(KernelIsa.Current, baseRow + r * rowBytes, qq, dd, ss, inputs),
                    };
            }
            void Four()
            {
                for (int r = 0; r < rows; r += 4)
                {
                    if (type == GgmlType.Q8_0) Q8Activations.Avx2Rows4(baseRow + r * rowBytes, rowBytes, qq, dd, inputs, yy + r);
                    else if (type == GgmlType.Q6_K && KernelIsa.Current == Isa.Avx2) Q6_KQ8Dot.Avx2Rows4(baseRow + r * rowBytes, rowBytes, qq, dd, ss, inputs, yy + r);
                    else if (type == GgmlType.Q6_K) Q6_KQ8Dot.Avx512Rows4(baseRow + r * rowBytes, rowBytes, qq, dd, ss, inputs, yy + r);
                    else Q4_KQ8Dot.Avx2Rows4(baseRow + r * rowBytes, rowBytes, qq, dd, ss, inputs, yy + r);
                }
            }
            // Also in the kernels' layout (as models load it): Q4_K and Q6_K against permuted activations, Q8_0 grouped.
            using var interleaved = new BenchWeights(type, rows, inputs, 1);
            sbyte[] permutedArray = GC.AllocateUninitializedArray<sbyte>(inputs, pinned: true);
            sbyte* permuted = (sbyte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(permutedArray));
            GgmlType layout = KernelWeightLayouts.LayoutFor(type, inputs, rows);
            bool hasInterleaved = layout != type;
            if (hasInterleaved)
            {
                Buffer.MemoryCopy(baseRow, interleaved.Data, rows * rowBytes, rows * rowBytes);
                StepSharp.Tensors.Blocks.InMemoryLayouts.FromFileLayout(layout, interleaved.Data, rows, rowBytes);
                if (type != GgmlType.Q8_0) Q4_KInterleavedQ8Dot.PermuteActivations(pq, permuted, inputs);
            }
            byte* interleavedRows = interleaved.Data;
            sbyte* interleavedQ = type == GgmlType.Q8_0 ? qq : permuted;
            void FourInterleaved()
            {
                for (int r = 0; r < rows; r += 4)
                    FourRows(layout, interleavedRows + r * rowBytes, rowBytes, interleavedQ, dd, ss, inputs, yy + r);
            }
            void AllGroupsInterleaved() => AllGroups(layout, interleavedRows, rowBytes, rows / 4, interleavedQ, dd, ss, inputs, yy);
            var cases = new List<(string, Action)> { ("one row", Single), ("four rows", Four), ("one row", Single), ("four rows", Four) };
            if (hasInterleaved) cases.InsertRange(2, [("four rows interleaved", FourInterleaved), ("four rows", Four)]);
            if (hasInterleaved)
                cases.AddRange([("four rows interleaved", FourInterleaved), ("all groups, one call", AllGroupsInterleaved), ("four rows interleaved", FourInterleaved), ("all groups, one call", AllGroupsInterleaved)]);
            foreach (var (name, call) in cases)
            {
                for (int i = 0; i < 100; i++) call();
                var sw = Stopwatch.StartNew();
                long calls = 0;
                while (sw.Elapsed.TotalSeconds < 1) { for (int i = 0; i < 100; i++) call(); calls += 100; }
                Console.WriteLine($"{type} x{inputs} {name}: {calls * rows * rowBytes / sw.Elapsed.TotalSeconds / 1e9:F1} GB/s");
            }
        }
    }

    /// <summary>
    /// Process CPU seconds per call, on a 1-thread pool: on a machine shared with other jobs the wall clock
    /// measures the neighbours, CPU time measures the kernel.
    /// </summary>
    private static double CpuTime(Action<int> call)
    {
        for (int i = 0; i < 5; i++) call(i);
        var samples = new List<double>();
        int c = 0;
        for (int s = 0; s < 5; s++)
        {
            TimeSpan cpu0 = Environment.CpuUsage.TotalTime;
            int calls = 0;
            while ((Environment.CpuUsage.TotalTime - cpu0).TotalMilliseconds < 50) { call(c++); calls++; }
            samples.Add((Environment.CpuUsage.TotalTime - cpu0).TotalSeconds / calls);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }

    /// <summary>Seconds per call: median of several timed batches after a warm-up.</summary>
    private static double Time(Action setup, Action<int> call)
    {
        setup();
        for (int i = 0; i < 5; i++) call(i);
        var samples = new List<double>();
        int c = 0;
        for (int s = 0; s < 7; s++)
        {
            var sw = Stopwatch.StartNew();
            int calls = 0;
            while (sw.Elapsed.TotalMilliseconds < 60) { call(c++); calls++; }
            samples.Add(sw.Elapsed.TotalSeconds / calls);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }

    /// <summary>Four rows (or a kernel layout's row group) from <paramref name="row"/> with the type's four-row int8 kernel.</summary>
    /// <summary>A kernel layout's <c>groups</c> consecutive row groups in one call, as MatMul runs them (Avx2Groups).</summary>
    private static void AllGroups(GgmlType layout, byte* first, long rowBytes, int groups, sbyte* q, float* d, short* sums, int inputs, float* y)
    {
        if (layout == GgmlType.Q4_KInterleaved) Q4_KInterleavedQ8Dot.Avx2Groups(first, 4 * rowBytes, groups, q, d, sums, inputs, y);
        else if (layout == GgmlType.Q6_KInterleaved) Q6_KInterleavedQ8Dot.Avx2Groups(first, 4 * rowBytes, groups, q, d, sums, inputs, y);
        else Q8_0GroupedQ8Dot.Avx2Groups(first, 4 * rowBytes, groups, q, d, inputs, y);
    }

    private static void FourRows(GgmlType type, byte* row, long rowBytes, sbyte* q, float* d, short* sums, int inputs, float* y)
    {
        if (type == GgmlType.Q8_0) Q8Activations.Avx2Rows4(row, rowBytes, q, d, inputs, y);
        else if (type == GgmlType.Q8_0Grouped) Q8_0GroupedQ8Dot.Avx2Rows4(row, q, d, inputs, y);
        else if (type == GgmlType.Q4_KInterleaved) Q4_KInterleavedQ8Dot.Avx2Rows4(row, q, d, sums, inputs, y);
        else if (type == GgmlType.Q6_KInterleaved) Q6_KInterleavedQ8Dot.Avx2Rows4(row, q, d, sums, inputs, y);
        else if (type == GgmlType.Q6_K) Q6_KQ8Dot.Avx512Rows4(row, rowBytes, q, d, sums, inputs, y);
        else Q4_KQ8Dot.Avx2Rows4(row, rowBytes, q, d, sums, inputs, y);
    }

    /// <summary>
    /// `quick stream TYPE [INPUTS]`: the four-row int8 kernel alone streaming a 256 MB matrix from DRAM on 1 and 2
    /// plain threads (no pool, no model around it), next to the bandwidth probe, alternating: what the kernel's
    /// memory behaviour allows before the model's many small matrices and joins.
    /// </summary>
    private static void Stream(GgmlType type, int inputs)
    {
        long rowBytes = GgmlTypeInfo.RowBytes(type, inputs);
        int rows = (int)(256L * 1024 * 1024 / rowBytes) & ~7;
        using var w = new BenchWeights(type, rows, inputs, 1);
        float[] x = BenchWeights.RandomVector(inputs, 2);
        var q = new sbyte[inputs]; var d = new float[inputs / 32]; var sums = new short[inputs / 16];
        var y = new float[rows];
        fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d) fixed (short* ps = sums) fixed (float* py = y)
        {
            bool q8 = type is GgmlType.Q8_0 or GgmlType.Q8_0Grouped;
            if (q8) Q8Activations.Quantize(px, inputs, pq, pd);
            else Q8KActivations.Quantize(px, inputs, pq, pd, ps);
            // The interleaved K-quant layouts read the activations permuted (in place: the plain kernels are not run on them).
            if (type is GgmlType.Q4_KInterleaved or GgmlType.Q6_KInterleaved)
            {
                sbyte[] permuted = new sbyte[inputs];
                fixed (sbyte* pp = permuted)
                {
                    Q4_KInterleavedQ8Dot.PermuteActivations(pq, pp, inputs);
                    Buffer.MemoryCopy(pp, pq, inputs, inputs);
                }
            }
            byte* baseRow = w.Data; sbyte* qq = pq; float* dd = pd; short* ss = ps; float* yy = py;
            void Range(int r0, int r1)
            {
                for (int r = r0; r < r1; r += 4)
                {
                    FourRows(type, baseRow + r * rowBytes, rowBytes, qq, dd, ss, inputs, yy + r);
                }
            }
            // Alternating, medians: the bandwidth this shared machine leaves drifts within seconds.
            var one = new List<double>(); var two = new List<double>(); var probe1 = new List<double>(); var probe2 = new List<double>();
            for (int round = 0; round < 6; round++)
            {
                var sw = Stopwatch.StartNew();
                Range(0, rows);
                one.Add(rows * rowBytes / sw.Elapsed.TotalSeconds / 1e9);
                sw.Restart();
                var half = new Thread(() => Range(rows / 2, rows));
                half.Start();
                Range(0, rows / 2);
                half.Join();
                two.Add(rows * rowBytes / sw.Elapsed.TotalSeconds / 1e9);
                probe1.Add(BandwidthProbe.MeasureReadGBs(1, TimeSpan.FromSeconds(0.5)));
                probe2.Add(BandwidthProbe.MeasureReadGBs(2, TimeSpan.FromSeconds(0.5)));
            }
            static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }
            Console.WriteLine($"{type} x{inputs} from DRAM, medians of 6: kernel 1T {Median(one):F1} GB/s, 2T {Median(two):F1}; probe 1T {Median(probe1):F1}, 2T {Median(probe2):F1}");
        }
    }

    /// <summary>
    /// `quick chunks TYPE [INPUTS [ROWS]]`: the four-row int8 kernel on one thread streaming a 256 MB matrix from DRAM
    /// in chunks of ROWS rows (an expert's matrix), in order and shuffled, as shares of the bandwidth probe measured
    /// just before each round (medians of 16 rounds): how well the kernel's loads keep memory busy, which the
    /// machine's drifting bandwidth hides in plain GB/s.
    /// </summary>
    private static void Chunks(GgmlType type, int inputs, int chunkRows)
    {
        long rowBytes = GgmlTypeInfo.RowBytes(type, inputs);
        int chunks = (int)(256L * 1024 * 1024 / rowBytes / chunkRows);
        int rows = chunks * chunkRows;
        using var w = new BenchWeights(type, rows, inputs, 1);
        float[] x = BenchWeights.RandomVector(inputs, 2);
        var q = new sbyte[inputs]; var d = new float[inputs / 32]; var sums = new short[inputs / 16];
        var y = new float[rows];
        int[] order = new int[chunks];
        for (int i = 0; i < chunks; i++) order[i] = i;
        new Random(7).Shuffle(order);
        fixed (float* px = x) fixed (sbyte* pq = q) fixed (float* pd = d) fixed (short* ps = sums) fixed (float* py = y)
        {
            if (type is GgmlType.Q8_0 or GgmlType.Q8_0Grouped) Q8Activations.Quantize(px, inputs, pq, pd);
            else Q8KActivations.Quantize(px, inputs, pq, pd, ps);
            byte* baseRow = w.Data; sbyte* qq = pq; float* dd = pd; short* ss = ps; float* yy = py;
            void Chunk(int c)
            {
                int first = c * chunkRows;
                // The kernel layouts as MatMul runs them: one call for the chunk's row groups.
                if (GgmlTypeInfo.IsInMemoryLayout(type)) AllGroups(type, baseRow + first * rowBytes, rowBytes, chunkRows / 4, qq, dd, ss, inputs, yy + first);
                else
                    for (int r = first; r < first + chunkRows; r += 4)
                        FourRows(type, baseRow + r * rowBytes, rowBytes, qq, dd, ss, inputs, yy + r);
            }
            var inOrder = new List<double>(); var shuffled = new List<double>(); var probe = new List<double>();
            for (int round = 0; round < 16; round++)
            {
                double p = BandwidthProbe.MeasureReadGBs(1, TimeSpan.FromSeconds(0.1));
                probe.Add(p);
                var sw = Stopwatch.StartNew();
                for (int c = 0; c < chunks; c++) Chunk(c);
                inOrder.Add(rows * rowBytes / sw.Elapsed.TotalSeconds / 1e9 / p);
                sw.Restart();
                for (int c = 0; c < chunks; c++) Chunk(order[c]);
                shuffled.Add(rows * rowBytes / sw.Elapsed.TotalSeconds / 1e9 / p);
            }
            static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }
            Console.WriteLine($"{type} x{inputs}, chunks of {chunkRows} rows ({chunkRows * rowBytes / 1024} KB), 1T, share of the probe ({Median(probe):F1} GB/s), medians of 16: in order {100 * Median(inOrder):F0} %, shuffled {100 * Median(shuffled):F0} %");
        }
    }
}
