using BenchmarkDotNet.Attributes;
using StepSharp.Kernels;
using StepSharp.Tensors;

namespace StepSharp.Bench;

/// <summary>
/// Prefill: 64 tokens through a 2048 × 4096 matrix on all cores, the tiled micro-kernel path against the
/// old path (dequantize a row, then one TensorPrimitives.Dot per token). Compute-bound: read GFLOP/s.
/// </summary>
[Config(typeof(KernelBenchConfig))]
public class PrefillBenchmarks : IDisposable
{
    public const int Rows = 2048, Inputs = 4096, Tokens = 64;

    private KernelThreadPool _pool = null!;
    private BenchWeights _weights = null!;
    private float[] _x = null!, _y = null!;

    [Params(GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_K)]
    public GgmlType Type { get; set; }

    public static Work Work(GgmlType type) => new(GgmlTypeInfo.RowBytes(type, Inputs) * (double)Rows, 2.0 * Rows * Inputs * Tokens);

    [GlobalSetup]
    public void Setup()
    {
        _pool = new KernelThreadPool(KernelThreadPool.DefaultThreadCount);
        _weights = new BenchWeights(Type, Rows, Inputs, 1);
        _x = BenchWeights.RandomVector(Tokens * Inputs, 2);
        _y = new float[Tokens * Rows];
    }

    [Benchmark(Baseline = true)]
    public void DequantizeThenDot() => DequantizingMatMul.Compute(_pool, _weights.View, 0, Rows, _x, Tokens, _y);

    [Benchmark]
    public void Tiled() => MatMul.Compute(_pool, _weights.View, 0, Rows, _x, Tokens, _y);

    [GlobalCleanup]
    public void Dispose()
    {
        _weights?.Dispose();
        _pool?.Dispose();
        GC.SuppressFinalize(this);
    }
}
