using StepSharp.Kernels;
namespace StepSharp.Models.Common;

/// <summary>Sizes that scratch buffers must cover, the maximum over all layers.</summary>
public readonly record struct ForwardDimensions(
    int Hidden, int MaxQueryWidth, int MaxKvWidth, int MaxHeads, int MaxFeedForward,
    int Experts = 0, int ExpertsUsed = 0, int ExpertFeedForward = 0, int Vocab = 0, int NextNInputWidth = 0);

/// <summary>
/// Activations of one forward step for up to <see cref="MaxTokens"/> tokens, each laid out row-major
/// [token, width]. Owned by a sequence's state and reused every step, so decoding allocates nothing.
/// </summary>
public sealed class ForwardBuffers
{
    public ForwardBuffers(ForwardDimensions d, int maxTokens)
    {
        MaxTokens = maxTokens;
        Dimensions = d;
        Hidden = new float[maxTokens * d.Hidden];
        Normed = new float[maxTokens * d.Hidden];
        Query = new float[maxTokens * d.MaxQueryWidth];
        Key = new float[maxTokens * d.MaxKvWidth];
        Value = new float[maxTokens * d.MaxKvWidth];
        Gate = new float[maxTokens * Math.Max(1, d.MaxHeads)];
        Attention = new float[maxTokens * d.MaxQueryWidth];
        Projection = new float[maxTokens * d.Hidden];
        FeedForwardGate = new float[maxTokens * Math.Max(d.MaxFeedForward, d.ExpertFeedForward)];
        FeedForwardUp = new float[maxTokens * Math.Max(d.MaxFeedForward, d.ExpertFeedForward)];
        FeedForwardOut = new float[maxTokens * d.Hidden];
        SharedOut = new float[maxTokens * d.Hidden];
        NextNInput = new float[maxTokens * d.NextNInputWidth];
        if (d.Experts > 0)
        {
            RouterLogits = new float[maxTokens * d.Experts];
            RouterProbs = new float[maxTokens * d.Experts];
            RouterBiased = new float[maxTokens * d.Experts];
            SelectedExperts = new int[maxTokens * d.ExpertsUsed];
            ExpertWeights = new float[maxTokens * d.ExpertsUsed];
            ExpertTokenCounts = new int[d.Experts];
            ExpertTokens = new int[d.Experts * maxTokens];
            ExpertSlots = new int[d.Experts * maxTokens];
            ExpertInput = new float[maxTokens * d.Hidden];
            ExpertOutput = new float[maxTokens * d.Hidden];
        }
        else
        {
            RouterLogits = RouterProbs = RouterBiased = ExpertWeights = ExpertInput = ExpertOutput = [];
            SelectedExperts = ExpertTokenCounts = ExpertTokens = ExpertSlots = [];
        }
    }

    public int MaxTokens { get; }
    public ForwardDimensions Dimensions { get; }

    public readonly float[] Hidden;          // [T, D] residual stream h
    public readonly float[] Normed;          // [T, D] RMSNorm output (attention input a, then FFN input f)
    public readonly float[] Query;           // [T, H·dh]
    public readonly float[] Key;             // [T, Hkv·dh]
    public readonly float[] Value;           // [T, Hkv·dh]
    public readonly float[] Gate;            // [T, H] head-wise gate
    public readonly float[] Attention;       // [T, H·dh] attention output per head
    public readonly float[] Projection;      // [T, D] attention output projection
    public readonly float[] FeedForwardGate; // [T, ff]
    public readonly float[] FeedForwardUp;   // [T, ff]
    public readonly float[] FeedForwardOut;  // [T, D]
    public readonly float[] SharedOut;       // [T, D] shared expert
    public readonly float[] NextNInput;      // [T, 2D] MTP input [RMSNorm(embedding) ; RMSNorm(hidden)]
    public readonly float[] RouterLogits;    // [T, E]
    public readonly float[] RouterProbs;     // [T, E]
    public readonly float[] RouterBiased;    // [T, E]
    public readonly int[] SelectedExperts;   // [T, k]
    public readonly float[] ExpertWeights;   // [T, k]
    public readonly int[] ExpertTokenCounts; // [E] tokens routed to each expert this step
    public readonly int[] ExpertTokens;      // [E, T] which tokens
    public readonly int[] ExpertSlots;       // [E, T] which of the token's k choices
    public readonly float[] ExpertInput;     // [T, D] gathered inputs of one expert
    public readonly float[] ExpertOutput;    // [T, D] one expert's outputs
    public readonly DecodeActivations DecodeFeedForwardInput = new(); // a one-token step's FFN input, rounded to int8 once for all its experts
}
