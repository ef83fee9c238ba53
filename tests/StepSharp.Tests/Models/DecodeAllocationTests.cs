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
        using var state = model.CreateState(256, 8);
        var logits = new float[model.VocabSize];
        int[] token = [65];
        for (int i = 0; i < 40; i++) model.Forward(state, token, logits); // warm up: JIT, per-thread scratch, attention rows
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) model.Forward(state, token, logits);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"100 decode steps allocated {allocated} bytes");
    }
}
