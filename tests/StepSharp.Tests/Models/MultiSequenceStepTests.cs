using StepSharp.Formats;
using StepSharp.Kernels;
using StepSharp.Models;
using StepSharp.Models.Common;
using StepSharp.Models.Step35;

namespace StepSharp.Tests.Models;

/// <summary>
/// Continuous batching must not change results: a sequence's logits are the same whether it runs alone or
/// in a step shared with other sequences at other positions (weights are shared, attention and caches are not).
/// Only the order of additions may differ (a step of several tokens takes the tiled prefill kernel, a lone token
/// the streaming decode kernel), so logits agree to float rounding and greedy tokens are identical.
/// </summary>
public class MultiSequenceStepTests
{
    private static readonly Lazy<byte[]> Image = new(() => Step35RandomModel.Build(Step35ModelShape.Tiny, seed: 11).ToArray());

    [Fact]
    public void InterleavedSequencesGiveTheSameLogitsAsSeparateRuns()
    {
        using var file = GgufFile.FromBytes(Image.Value, "tiny-random");
        using var pool = new KernelThreadPool(2);
        using var model = Step35Model.Load(file, pool);
        int V = model.VocabSize;
        int[][] prompts = [[256, 72, 101, 108, 108, 111], [256, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44], [256, 90]];
        const int decodeSteps = 12; // past the sliding window of 8

        // Alone: each prompt prefilled, then greedy decoding; remember every logits row.
        var alone = new List<float[]>[prompts.Length];
        for (int s = 0; s < prompts.Length; s++)
        {
            alone[s] = [];
            using var state = model.CreateState(64, 4);
            var logits = new float[V];
            model.Forward(state, prompts[s], logits);
            alone[s].Add((float[])logits.Clone());
            for (int i = 0; i < decodeSteps; i++)
            {
                model.Forward(state, [ArgMax(logits)], logits);
                alone[s].Add((float[])logits.Clone());
            }
        }

        // Together: prompts enter in chunks of up to 4 tokens while the others decode, all in shared steps.
        var states = prompts.Select(_ => (SequenceState)model.CreateState(64, 4)).ToArray();
        var buffers = model.CreateStepBuffers(12);
        var rows = new StepRows(12);
        var batchLogits = new float[prompts.Length * V];
        int[] fed = new int[prompts.Length];
        int[] next = new int[prompts.Length];
        var together = prompts.Select(_ => new List<float[]>()).ToArray();
        while (together.Any(t => t.Count < decodeSteps + 1))
        {
            rows.Clear();
            var slotOf = new int[prompts.Length];
            for (int s = 0; s < prompts.Length; s++)
            {
                slotOf[s] = -1;
                if (together[s].Count >= decodeSteps + 1) continue;
                if (fed[s] < prompts[s].Length)
                {
                    int n = Math.Min(4, prompts[s].Length - fed[s]);
                    for (int i = 0; i < n; i++) slotOf[s] = rows.Add(states[s], prompts[s][fed[s] + i], fed[s] + i == prompts[s].Length - 1);
                    fed[s] += n;
                }
                else
                {
                    slotOf[s] = rows.Add(states[s], next[s], wantLogits: true);
                }
            }
            model.ForwardBatch(buffers, rows, batchLogits);
            for (int s = 0; s < prompts.Length; s++)
            {
                if (slotOf[s] < 0) continue;
                float[] row = batchLogits.AsSpan(slotOf[s] * V, V).ToArray();
                together[s].Add(row);
                next[s] = ArgMax(row);
            }
        }

        for (int s = 0; s < prompts.Length; s++)
            for (int i = 0; i <= decodeSteps; i++)
            {
                float worst = 0;
                for (int v = 0; v < V; v++) worst = Math.Max(worst, Math.Abs(alone[s][i][v] - together[s][i][v]));
                Assert.True(worst <= 1e-4f, $"sequence {s}, step {i}: batched logits differ from the single-sequence run by {worst}");
                Assert.Equal(ArgMax(alone[s][i]), ArgMax(together[s][i]));
            }
    }

    [Fact]
    public void AStepPastTheContextNamesTheLimit()
    {
        using var file = GgufFile.FromBytes(Image.Value, "tiny-random");
        using var pool = new KernelThreadPool(1);
        using var model = Step35Model.Load(file, pool);
        using var state = model.CreateState(8, 4);
        var logits = new float[model.VocabSize];
        var e = Assert.Throws<ContextOverflowException>(() => model.Forward(state, new int[9], logits));
        Assert.Contains("context length of 8", e.Message);
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
