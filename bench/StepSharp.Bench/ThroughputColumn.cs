using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace StepSharp.Bench;

/// <summary>What one benchmark invocation moves and computes, for the GB/s and GFLOP/s columns.</summary>
public readonly record struct Work(double Bytes, double Flops);

/// <summary>
/// GB/s (weight bytes streamed per second) or GFLOP/s (2·rows·inputs·tokens per second) from the measured
/// mean. Each benchmark class provides <c>public static Work Work(GgmlType type)</c> (or <c>Work()</c>),
/// found by reflection, so the column needs no per-class code.
/// </summary>
public sealed class ThroughputColumn(string name, Func<Work, double> amount, double scale) : IColumn
{
    public static readonly ThroughputColumn GBs = new("GB/s", w => w.Bytes, 1e9);
    public static readonly ThroughputColumn GFlops = new("GFLOP/s", w => w.Flops, 1e9);

    public string Id => "StepSharp." + name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => name == "GB/s" ? "weight bytes read per second, 10⁹" : "floating-point operations per second, 10⁹ (2 per multiply-add)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        Work? work = WorkOf(benchmarkCase);
        if (stats is null || work is null || amount(work.Value) <= 0) return "-";
        double perSecond = amount(work.Value) / (stats.Mean * 1e-9);
        return (perSecond / scale).ToString("F1");
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    private static Work? WorkOf(BenchmarkCase benchmarkCase)
    {
        Type type = benchmarkCase.Descriptor.Type;
        MethodInfo? method = type.GetMethod("Work", BindingFlags.Public | BindingFlags.Static | BindingFlags.FlattenHierarchy);
        if (method is null) return null;
        object?[] args = method.GetParameters().Length == 0 ? [] : [benchmarkCase.Parameters.Items.First(p => string.Equals(p.Name, method.GetParameters()[0].Name, StringComparison.OrdinalIgnoreCase)).Value];
        return (Work?)method.Invoke(null, args);
    }
}

/// <summary>
/// Short runs (the machine is shared): one launch, 2 warm-ups, 5 measured iterations, plus the throughput columns.
/// </summary>
public sealed class KernelBenchConfig : ManualConfig
{
    public KernelBenchConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(5).WithId("Short"));
        AddColumn(ThroughputColumn.GBs, ThroughputColumn.GFlops);
    }
}
