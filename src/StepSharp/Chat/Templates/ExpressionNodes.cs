namespace StepSharp.Chat.Templates;

// Expression AST. Every node remembers its source line for runtime error messages.

internal abstract record Expr(int Line);

internal sealed record ConstExpr(object? Value, int Line) : Expr(Line);
internal sealed record NameExpr(string Name, int Line) : Expr(Line);
internal sealed record GetAttrExpr(Expr Target, string Attribute, int Line) : Expr(Line);
internal sealed record GetItemExpr(Expr Target, Expr Index, int Line) : Expr(Line);
internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);
internal sealed record ListExpr(List<Expr> Items, int Line) : Expr(Line);
internal sealed record TupleExpr(List<Expr> Items, int Line) : Expr(Line);
internal sealed record DictExpr(List<(Expr Key, Expr Value)> Items, int Line) : Expr(Line);

/// <summary>Arguments of a call, filter or test: positional, keyword, and *args / **kwargs spreads.</summary>
internal sealed record ArgList(List<Expr> Positional, List<(string Name, Expr Value)> Named, Expr? StarArgs, Expr? StarKwargs)
{
    public static readonly ArgList Empty = new([], [], null, null);
}

internal sealed record CallExpr(Expr Callee, ArgList Args, int Line) : Expr(Line);
internal sealed record FilterExpr(Expr? Input, string Name, ArgList Args, int Line) : Expr(Line);
internal sealed record TestExpr(Expr Input, string Name, ArgList Args, bool Negated, int Line) : Expr(Line);

/// <summary>Arithmetic: + - * / // % **.</summary>
internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line) : Expr(Line);
internal sealed record NegateExpr(Expr Operand, bool Plus, int Line) : Expr(Line);
internal sealed record NotExpr(Expr Operand, int Line) : Expr(Line);
internal sealed record AndExpr(Expr Left, Expr Right, int Line) : Expr(Line);
internal sealed record OrExpr(Expr Left, Expr Right, int Line) : Expr(Line);

/// <summary>The <c>~</c> operator: str() of every operand joined.</summary>
internal sealed record ConcatExpr(List<Expr> Parts, int Line) : Expr(Line);

/// <summary>Chained comparison <c>a &lt; b == c</c>; operators: == != &lt; &lt;= &gt; &gt;= in notin.</summary>
internal sealed record CompareExpr(Expr First, List<(string Op, Expr Operand)> Rest, int Line) : Expr(Line);

/// <summary><c>a if cond else b</c>; without else the result is Undefined when cond is false.</summary>
internal sealed record CondExpr(Expr Condition, Expr Then, Expr? Else, int Line) : Expr(Line);
