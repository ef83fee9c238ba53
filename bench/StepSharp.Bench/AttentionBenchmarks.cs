using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using StepSharp.Kernels;

namespace StepSharp.Bench;

/// <summary>
/// Decode attention's per-tile kernels (<see cref="HeadVectors"/>), in L1: one tile of 16 cached positions of a
/// 128-wide KV head, shared by the 8 query heads of a full layer of the mini shape. Keys/values widened from fp16
/// (exact vs finite form), scores and weighted values one query head at a time (the baseline) vs two heads per
/// key/value load. GFLOP/s counts 2 per multiply-add of the scores or weighted values.
/// </summary>
[Config(typeof(KernelBenchConfig))]
public unsafe class AttentionBenchmarks : IDisposable
{
    public const int Positions = 16, HeadDim = 128, Heads = 8;

    private ushort* _halves;
    private float* _tile, _query, _output, _scores;

    public static Work Work() => new(Positions * HeadDim * 2.0, 2.0 * Heads * Positions * HeadDim);

    [GlobalSetup]
    public void Setup()
    {
        _halves = (ushort*)NativeMemory.AlignedAlloc(Positions * HeadDim * sizeof(ushort), 64);
        _tile = (float*)NativeMemory.AlignedAlloc(Positions * HeadDim * sizeof(float), 64);
        _query = (float*)NativeMemory.AlignedAlloc(Heads * HeadDim * sizeof(float), 64);
        _output = (float*)NativeMemory.AlignedAlloc(Heads * HeadDim * sizeof(float), 64);
        _scores = (float*)NativeMemory.AlignedAlloc(Heads * Positions * sizeof(float), 64);
        var rng = new Random(3);
        for (int i = 0; i < Positions * HeadDim; i++) _halves[i] = BitConverter.HalfToUInt16Bits((Half)(rng.NextDouble() * 2 - 1));
        for (int i = 0; i < Heads * HeadDim; i++) { _query[i] = (float)rng.NextDouble(); _output[i] = 0; }
        for (int i = 0; i < Heads * Positions; i++) _scores[i] = (float)rng.NextDouble() / Positions;
        HeadVectors.HalfToSingle(_halves, _tile, Positions * HeadDim);
    }

    [Benchmark]
    public void WidenExact() => HeadVectors.HalfToSingle(_halves, _tile, Positions * HeadDim);

    [Benchmark]
    public void WidenFinite() => HeadVectors.FiniteHalfToSingle(_halves, _tile, Positions * HeadDim);

    [Benchmark(Baseline = true)]
    public void ScoresHeadByHead()
    {
        for (int h = 0; h < Heads; h++) HeadVectors.Scores(_query + h * HeadDim, _tile, HeadDim, Positions, _scores + h * Positions, 0.088f);
    }

    [Benchmark]
    public void ScoresAllHeads() => HeadVectors.Scores(_query, Heads, _tile, HeadDim, Positions, _scores, Positions, 0.088f);

    [Benchmark]
    public void WeightedValuesHeadByHead()
    {
        for (int h = 0; h < Heads; h++) HeadVectors.AccumulateWeighted(_output + h * HeadDim, _scores + h * Positions, _tile, HeadDim, Positions);
    }

    [Benchmark]
    public void WeightedValuesAllHeads() => HeadVectors.AccumulateWeighted(_output, Heads, _scores, Positions, _tile, HeadDim, Positions);

    [GlobalCleanup]
    public void Dispose()
    {
        NativeMemory.AlignedFree(_halves);
        NativeMemory.AlignedFree(_tile);
        NativeMemory.AlignedFree(_query);
        NativeMemory.AlignedFree(_output);
        NativeMemory.AlignedFree(_scores);
        _halves = null; _tile = _query = _output = _scores = null;
        GC.SuppressFinalize(this);
    }
}
