namespace StepSharp.Inference;

/// <summary>Prefix reuse: how much of a cached token sequence a new prompt can keep.</summary>
internal static class PromptPrefix
{
    /// <summary>
    /// Length of the common prefix of <paramref name="cached"/> and <paramref name="prompt"/>, leaving at least the
    /// prompt's last token to recompute (its logits are needed to generate).
    /// </summary>
    public static int Reusable(List<int> cached, int[] prompt)
    {
        int common = 0, limit = Math.Min(cached.Count, prompt.Length - 1);
        while (common < limit && cached[common] == prompt[common]) common++;
        return common;
    }
}
