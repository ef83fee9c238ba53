using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models.Step35;

namespace StepSharp.Tests.Models;

/// <summary>The decode step (one token through the whole model, logits out) allocates nothing on the calling thread.</summary>
public class DecodeAllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void DecodeStepsAllocateNothing(int threads)
    {
        using var file = GgufFile.FromBytes(Step35RandomModel.Build(Step35ModelShape.Tiny, 3, StepSharp.Tensors.GgmlType.Q8_0).ToArray(), "tiny-q8");
        using var pool = new KernelThreadPool(threads);
        using var model = Step35Model.Load(file, pool);
        using var state = model.CreateState(512, 8);
        var logits = new float[model.VocabSize];
        int[] token = [65];
        // Warm up: JIT (framework methods tier up after 30 calls, and a busy machine delays the rejit), per-thread
        // scratch, attention rows. 40 steps were once not enough in a full parallel CI run (6840 bytes, never reproduced alone).
        for (int i = 0; i < 120; i++) model.Forward(state, token, logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) model.Forward(state, token, logits);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"100 decode steps allocated {allocated} bytes");
    }
}
