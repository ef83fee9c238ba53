namespace StepSharp.Chat.Templates;

// Statement AST (the bodies of {% %} tags and the text between them).

internal abstract record Stmt(int Line);

internal sealed record TextStmt(string Text, int Line) : Stmt(Line);
internal sealed record OutputStmt(Expr Value, int Line) : Stmt(Line);
internal sealed record IfStmt(List<(Expr Condition, List<Stmt> Body)> Branches, List<Stmt>? Else, int Line) : Stmt(Line);

/// <summary>{% for target in iterable [if filter] [recursive] %}body{% else %}empty{% endfor %}</summary>
internal sealed record ForStmt(Target Target, Expr Iterable, Expr? Filter, List<Stmt> Body, List<Stmt>? Else, bool Recursive, int Line) : Stmt(Line);

/// <summary>{% set target = value %}</summary>
internal sealed record SetStmt(Target Target, Expr Value, int Line) : Stmt(Line);

/// <summary>{% set name | filters %}body{% endset %}: the rendered body, optionally filtered.</summary>
internal sealed record SetBlockStmt(Target Target, List<Stmt> Body, List<FilterExpr> Filters, int Line) : Stmt(Line);

internal sealed record MacroStmt(MacroDefinition Definition, int Line) : Stmt(Line);

/// <summary>{% call(params) macro(args) %}body{% endcall %}: calls the macro with caller() = body.</summary>
internal sealed record CallBlockStmt(CallExpr Call, MacroDefinition Caller, int Line) : Stmt(Line);

/// <summary>{% filter f %}body{% endfilter %}</summary>
internal sealed record FilterBlockStmt(List<FilterExpr> Filters, List<Stmt> Body, int Line) : Stmt(Line);

/// <summary>{% with a = 1 %}body{% endwith %}: assignments in a new scope.</summary>
internal sealed record WithStmt(List<(Target Target, Expr Value)> Assignments, List<Stmt> Body, int Line) : Stmt(Line);

internal sealed record BreakStmt(int Line) : Stmt(Line);
internal sealed record ContinueStmt(int Line) : Stmt(Line);

/// <summary>A macro's signature and body; shared by {% macro %} and the caller of {% call %}.</summary>
internal sealed record MacroDefinition(string Name, List<string> Parameters, List<Expr?> Defaults, List<Stmt> Body, int Line)
{
    /// <summary>Set by the parser when the body mentions these names, as Jinja does.</summary>
    public bool UsesCaller { get; init; }
    public bool UsesVarargs { get; init; }
    public bool UsesKwargs { get; init; }
}

/// <summary>Left-hand side of set/for: a name, a tuple of targets, or namespace attribute (ns.x).</summary>
internal abstract record Target(int Line);
internal sealed record NameTarget(string Name, int Line) : Target(Line);
internal sealed record TupleTarget(List<Target> Items, int Line) : Target(Line);
internal sealed record AttributeTarget(string Owner, string Attribute, int Line) : Target(Line);
