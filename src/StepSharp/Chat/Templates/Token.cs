namespace StepSharp.Chat.Templates;

internal enum TokenKind
{
    Data,           // template text between tags
    VariableBegin,  // {{
    VariableEnd,    // }}
    BlockBegin,     // {%
    BlockEnd,       // %}
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>One lexed token. <see cref="Value"/> holds the text (decoded for strings), <see cref="Literal"/> numbers.</summary>
internal readonly record struct Token(TokenKind Kind, string Value, int Line, int Column, object? Literal = null)
{
    public bool Is(TokenKind kind, string value) => Kind == kind && Value == value;
    public bool IsOperator(string op) => Kind == TokenKind.Operator && Value == op;
    public bool IsName(string name) => Kind == TokenKind.Name && Value == name;

    public string Describe() => Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.Data => "template text",
        TokenKind.String => $"string '{Value}'",
        _ => $"'{Value}'",
    };
}
