namespace StepSharp.Inference;

/// <summary>A test seam: supplies the tokens a "model" generates instead of running the network.</summary>
public interface IScriptedOutput
{
    /// <summary>The token ids to emit for this prompt (the generator stops after them as on an end token).</summary>
    IReadOnlyList<int> Next(IReadOnlyList<int> promptTokens);
}
