namespace StepSharp.Chat.Parsing;

/// <summary>How a tool-call parameter value is converted, from the tool's JSON schema (spec §6.3 step 4).</summary>
public enum ToolParameterKind
{
    /// <summary>Kept as the raw string: <c>string</c>, enums, no type, unknown parameter or undeclared tool.</summary>
    String,
    Integer,
    Number,
    Boolean,
    /// <summary><c>object</c> or <c>array</c>: parsed as JSON, else as a Python literal.</summary>
    Container,
}
