using System.Runtime.InteropServices;
using StepSharp.Tensors;

namespace StepSharp.Bench;

/// <summary>
/// A random weight tensor in native memory, shaped like a model matrix, with <see cref="Copies"/> copies of
/// it stacked so that decode benchmarks cycle through more bytes than the L3 holds and measure DRAM, not cache.
/// Quantized blocks are random bytes with moderate fp16 scales (no Inf/NaN); float rows are random values.
/// </summary>
public sealed unsafe class BenchWeights : IDisposable
{
    public BenchWeights(GgmlType type, int rows, int inputs, int copies, int seed = 1)
    {
        Type = type;
        Rows = rows;
        Inputs = inputs;
        Copies = copies;
        long rowBytes = GgmlTypeInfo.RowBytes(type, inputs);
        long bytes = rowBytes * rows * copies;
        // Huge pages, as the engine's --no-mmap weights and the bandwidth probe: 4 KB pages add a TLB miss per page.
        _buffer = new LargePageBuffer(bytes);
        Data = _buffer.Data;
        var rng = new Random(seed);
        var span = new Span<byte>(Data, checked((int)Math.Min(bytes, int.MaxValue)));
        if (bytes > int.MaxValue) throw new ArgumentException("benchmark tensors must stay below 2 GB");
        if (type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16)
        {
            var row = new float[inputs];
            for (long r = 0; r < (long)rows * copies; r++)
            {
                for (int i = 0; i < inputs; i++) row[i] = (float)(rng.NextDouble() * 2 - 1);
                Quantize.Row(type, row, span.Slice((int)(r * rowBytes), (int)rowBytes));
            }
        }
        else
        {
            rng.NextBytes(span);
            // The kernels' in-memory layouts are made from their file types' blocks, below.
            GgmlType fileType = GgmlTypeInfo.IsInMemoryLayout(type) ? StepSharp.Tensors.Blocks.InMemoryLayouts.FileType(type) : type;
            int blockBytes = GgmlTypeInfo.BlockBytes(fileType);
            int scaleAt = fileType == GgmlType.Q6_K ? 208 : 0;
            bool hasMin = fileType is GgmlType.Q4_K or GgmlType.Q5_K;
            for (long at = 0; at < bytes; at += blockBytes)
            {
                ((Half*)(Data + at + scaleAt))[0] = (Half)(rng.NextDouble() * 0.02);
                if (hasMin) ((Half*)(Data + at + 2))[0] = (Half)(rng.NextDouble() * 0.02);
            }
        }
        if (GgmlTypeInfo.IsInMemoryLayout(type)) StepSharp.Tensors.Blocks.InMemoryLayouts.FromFileLayout(type, Data, (long)rows * copies, rowBytes);
        View = new TensorView("bench", type, [inputs, (long)rows * copies], Data, bytes);
    }

    public GgmlType Type { get; }
    public int Rows { get; }
    public int Inputs { get; }
    public int Copies { get; }
    public byte* Data { get; }
    public TensorView View { get; }

    /// <summary>Bytes of one copy: what one matmul streams.</summary>
    public long MatrixBytes => GgmlTypeInfo.RowBytes(Type, Inputs) * Rows;

    public static float[] RandomVector(int n, int seed)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    private readonly LargePageBuffer _buffer;

    public void Dispose() => _buffer.Dispose();
}
