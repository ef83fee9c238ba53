namespace StepSharp.Inference.Constraints;

/// <summary>
/// Restricts which tokens may come next (constrained decoding: <c>response_format: json_object</c>, a required tool
/// call). The generator samples as usual and re-draws while the constraint refuses the token's bytes.
/// </summary>
public interface IOutputConstraint
{
    /// <summary>Whether a token with these bytes may come next. <paramref name="endsGeneration"/>: an end-of-generation token.</summary>
    bool Allows(ReadOnlySpan<byte> tokenBytes, bool endsGeneration);

    /// <summary>Takes an allowed token.</summary>
    void Accept(ReadOnlySpan<byte> tokenBytes);

    /// <summary>The constrained output is whole: the generation ends here.</summary>
    bool IsComplete { get; }
}
