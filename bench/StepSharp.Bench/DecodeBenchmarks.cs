using BenchmarkDotNet.Attributes;
using StepSharp.Kernels;
using StepSharp.Tensors;

namespace StepSharp.Bench;

/// <summary>
/// Decode (one token): y = W·x over a 4096 × 11264 matrix (a Step 3.5-sized down projection, 11264 inputs)
/// on all cores, the fused kernel against the old dequantize-a-row-then-dot path. Several copies of the
/// matrix are cycled so that every call streams from DRAM, not from the L3.
/// </summary>
public abstract class DecodeBenchmarks : IDisposable
{
    public const int Rows = 4096, Inputs = 11264;
    private const long MinBytesCycled = 96L << 20;   // three times the 32 MB L3

    private KernelThreadPool _pool = null!;
    private BenchWeights _weights = null!;
    private float[] _x = null!, _y = null!;
    private int _call;

    public abstract GgmlType Type { get; set; }

    public static Work Work(GgmlType type) => new(GgmlTypeInfo.RowBytes(type, Inputs) * (double)Rows, 2.0 * Rows * Inputs);

    [GlobalSetup]
    public void Setup()
    {
        _pool = new KernelThreadPool(KernelThreadPool.DefaultThreadCount);
        long bytes = GgmlTypeInfo.RowBytes(Type, Inputs) * Rows;
        _weights = new BenchWeights(Type, Rows, Inputs, (int)Math.Max(1, (MinBytesCycled + bytes - 1) / bytes));
        _x = BenchWeights.RandomVector(Inputs, 2);
        _y = new float[Rows];
    }

    private long NextRowStart() => (long)(_call++ % _weights.Copies) * Rows;

    [Benchmark(Baseline = true)]
    public void DequantizeThenDot() => DequantizingMatMul.Compute(_pool, _weights.View, NextRowStart(), Rows, _x, 1, _y);

    /// <summary>The fused kernel with f32 activations (the default decode path of types without an int8 kernel).</summary>
    [Benchmark]
    public void Fused()
    {
        using var scope = ActivationQuantization.Set(ActivationMode.Float);
        MatMul.Compute(_pool, _weights.View, NextRowStart(), Rows, _x, 1, _y);
    }

    /// <summary>The int8-activation path (<see cref="ActivationQuantization"/>, the decode default for Q8_0, Q4_K and Q6_K).</summary>
    protected void FusedInt8Activations()
    {
        using var scope = ActivationQuantization.Enable();
        MatMul.Compute(_pool, _weights.View, NextRowStart(), Rows, _x, 1, _y);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _weights?.Dispose();
        _pool?.Dispose();
        GC.SuppressFinalize(this);
    }
}

[Config(typeof(KernelBenchConfig))]
public class LegacyQuantDecodeBenchmarks : DecodeBenchmarks
{
    [Params(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0)]
    public override GgmlType Type { get; set; }
}

[Config(typeof(KernelBenchConfig))]
public class KQuantDecodeBenchmarks : DecodeBenchmarks
{
    [Params(GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K)]
    public override GgmlType Type { get; set; }
}

[Config(typeof(KernelBenchConfig))]
public class FloatDecodeBenchmarks : DecodeBenchmarks
{
    [Params(GgmlType.F32, GgmlType.F16, GgmlType.BF16)]
    public override GgmlType Type { get; set; }
}

[Config(typeof(KernelBenchConfig))]
public class Int8ActivationDecodeBenchmarks : DecodeBenchmarks
{
    [Params(GgmlType.Q8_0, GgmlType.Q8_0Grouped, GgmlType.Q4_K, GgmlType.Q4_KInterleaved, GgmlType.Q6_K, GgmlType.Q6_KInterleaved)]
    public override GgmlType Type { get; set; }

    [Benchmark]
    public void Int8Activations() => FusedInt8Activations();
}
