namespace StepSharp.Formats;

/// <summary>llama.cpp's GGUF tensor naming (<c>blk.N.attn_q.weight</c>, <c>token_embd.weight</c>, ...).</summary>
public static class GgufTensorNames
{
    /// <summary>The block (layer) index N of a <c>blk.N.*</c> tensor, or null for tensors outside the blocks.</summary>
    public static int? BlockIndex(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return null;
        int end = name.IndexOf('.', 4);
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), out int l) ? l : null;
    }
}
