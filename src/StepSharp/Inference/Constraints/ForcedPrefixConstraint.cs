using System.Text;

namespace StepSharp.Inference.Constraints;

/// <summary>
/// The output must begin with a fixed text (e.g. <c>&lt;tool_call&gt;</c> for <c>tool_choice: required</c>, or
/// <c>&lt;tool_call&gt;\n&lt;function=NAME&gt;</c> for a named tool); anything may follow it. Never complete by itself:
/// the generation ends as usual after the prefix.
/// </summary>
public sealed class ForcedPrefixConstraint(string prefix) : IOutputConstraint
{
    private readonly byte[] _prefix = Encoding.UTF8.GetBytes(prefix);
    private int _matched;

    public bool IsComplete => false;

    public bool Allows(ReadOnlySpan<byte> tokenBytes, bool endsGeneration)
    {
        if (_matched == _prefix.Length) return true;
        if (endsGeneration || tokenBytes.IsEmpty) return false;
        int n = Math.Min(tokenBytes.Length, _prefix.Length - _matched);
        return tokenBytes[..n].SequenceEqual(_prefix.AsSpan(_matched, n));
    }

    public void Accept(ReadOnlySpan<byte> tokenBytes) => _matched = Math.Min(_prefix.Length, _matched + tokenBytes.Length);
}
