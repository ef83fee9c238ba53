using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models.Common;
using StepSharp.Models.Step35;
using StepSharp.Tensors;

namespace StepSharp.Tests.Models;

/// <summary>
/// The one-token MoE job: its split into row ranges and phases gives, bit for bit and at any thread count, each FFN's
/// own result on the float input (which quantizes it the same way the prepared copy was made).
/// </summary>
public class MoeDecodeJobTests
{
    private static readonly Lazy<byte[]> Image = new(() => Step35RandomModel.Build(Step35ModelShape.Tiny, 17, GgmlType.Q8_0).ToArray());

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(3, true)]
    [InlineData(2, false)]
    public void EachOutputIsItsFeedForwardOfTheInput(int threads, bool withShared)
    {
        using var file = GgufFile.FromBytes(Image.Value, "tiny-q8");
        using var pool = new KernelThreadPool(threads);
        using var model = Step35Model.Load(file, pool);
        using var single = new KernelThreadPool(1);
        var rng = new Random(4);
        var job = new MoeDecodeJob();
        int moeLayers = 0;
        foreach (Step35Layer layer in model.Layers)
        {
            if (layer.Moe is not { } moe) continue;
            moeLayers++;
            int D = moe.Experts.HiddenSize;
            var f = new float[D];
            for (int i = 0; i < D; i++) f[i] = (float)(rng.NextDouble() * 4 - 2);
            var input = new DecodeActivations();
            input.Prepare(f, moe.Experts.Gate.Type, moe.Experts.Up.Type, moe.Shared.Gate.Type, moe.Shared.Up.Type);
            // Distinct experts in no particular order, the last one of the stack among them.
            int[] experts = [moe.ExpertCount - 1, 3, 0, 7];
            FeedForward? shared = withShared ? moe.Shared : null;

            float[] outputs = job.Run(pool, input, moe.Experts, experts, shared).ToArray();

            Assert.Equal((experts.Length + (withShared ? 1 : 0)) * D, outputs.Length);
            var gate = new float[Math.Max(moe.Experts.FeedForwardSize, moe.Shared.FeedForwardSize)];
            var up = new float[gate.Length];
            var expected = new float[D];
            for (int j = 0; j < experts.Length; j++)
            {
                moe.Experts.Forward(single, f, expected, 1, gate, up, experts[j]);
                Assert.Equal(expected, outputs.AsSpan(j * D, D).ToArray());
            }
            if (withShared)
            {
                moe.Shared.Forward(single, f, expected, 1, gate, up);
                Assert.Equal(expected, outputs.AsSpan(experts.Length * D, D).ToArray());
            }
        }
        Assert.True(moeLayers >= 2, "the tiny shape has MoE layers, some with SwiGLU limits");
    }
}
