namespace StepSharp.Chat.Parsing;

/// <summary>One parsed tool call: OpenAI-style id, function name, and the arguments as a JSON object string.</summary>
public sealed record ParsedToolCall(string Id, string Name, string ArgumentsJson);

/// <summary>
/// The parsed completion, shaped like an OpenAI assistant message: <c>reasoning_content</c> and <c>content</c>
/// are null when empty (content also when whitespace-only), tool calls are in output order.
/// </summary>
public sealed record ParsedOutput(string? ReasoningContent, string? Content, IReadOnlyList<ParsedToolCall> ToolCalls);
