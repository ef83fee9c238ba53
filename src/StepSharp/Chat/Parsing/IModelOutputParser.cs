namespace StepSharp.Chat.Parsing;

/// <summary>
/// Incremental parser of one model family's raw completion text: splits reasoning from content and turns
/// tool-call markup into tool calls. Feed it decoded text in pieces of any size; whatever the chunking,
/// the concatenated deltas equal <see cref="Result"/> and no delta ever contains markup or half a tag.
/// One instance parses one generation.
/// </summary>
public interface IModelOutputParser
{
    /// <summary>Feeds more raw text; returns the deltas that became certain (may be empty).</summary>
    ParserDelta Push(string chunk);

    /// <summary>End of generation: flushes held-back text and closes open blocks by the family's rules.</summary>
    ParserDelta Finish();

    /// <summary>Everything parsed so far (final once <see cref="Finish"/> was called).</summary>
    ParsedOutput Result { get; }
}
