using System.Diagnostics;
using StepSharp.Kernels;

namespace StepSharp.Tests.Kernels;

public class BandwidthProbeTests
{
    [Fact]
    public void MeasuresAPlausibleRateWithinItsBudget()
    {
        var sw = Stopwatch.StartNew();
        double gbs = BandwidthProbe.MeasureReadGBs(1, TimeSpan.FromMilliseconds(100));
        sw.Stop();
        // Any machine that runs .NET reads more than 0.1 GB/s and no DRAM delivers 10 TB/s; a broken probe
        // (reads optimised away, wrong byte count) lands outside.
        Assert.InRange(gbs, 0.1, 10_000);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"probe took {sw.Elapsed} for a 100 ms budget");
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BandwidthProbe.MeasureReadGBs(0, TimeSpan.FromMilliseconds(10)));
        Assert.Throws<ArgumentOutOfRangeException>(() => BandwidthProbe.MeasureReadGBs(1, TimeSpan.Zero));
    }
}
