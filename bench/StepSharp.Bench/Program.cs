using BenchmarkDotNet.Running;
using StepSharp.Bench;
using StepSharp.Kernels;

if (args.Length > 0 && args[0] == "quick")
{
    QuickBench.Run(args);
    return;
}
// The bound the decode benchmarks are judged against, measured in this same run.
Console.WriteLine($"// kernels: {KernelIsa.Current} (best {KernelIsa.Best})");
for (int threads = 1; threads <= KernelThreadPool.DefaultThreadCount; threads++)
    Console.WriteLine($"// memory read bandwidth, {threads} thread(s): {BandwidthProbe.MeasureReadGBs(threads, TimeSpan.FromSeconds(1)):F1} GB/s");
BenchmarkSwitcher.FromAssembly(typeof(QuickBench).Assembly).Run(args);
