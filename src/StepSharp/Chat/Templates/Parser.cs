namespace StepSharp.Chat.Templates;

/// <summary>
/// Recursive-descent parser producing the statement tree; mirrors jinja2/parser.py so precedence and
/// the accepted syntax match (filters bind tighter than arithmetic, tests tighter than 'and'/'or').
/// Tags Jinja has but chat templates never need (extends, block, include, import...) are rejected with
/// a <see cref="TemplateSyntaxException"/> naming the tag and line.
/// </summary>
internal sealed partial class Parser
{
    private static readonly HashSet<string> UnsupportedTags =
        ["extends", "block", "include", "import", "from", "do", "autoescape", "trans", "pluralize", "endblock", "debug"];

    private readonly List<Token> _tokens;
    private readonly string _name;
    private int _index;
    private HashSet<string>? _referencedNames; // names seen inside the macro body being parsed
    private int _nesting; // guards the recursive descent against stack overflow on hostile input
    private const int MaxNesting = 256;

    private void Enter()
    {
        if (++_nesting > MaxNesting || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw Error($"template nested too deeply (more than {MaxNesting} levels)");
    }

    private Parser(List<Token> tokens, string name)
    {
        _tokens = tokens;
        _name = name;
    }

    public static List<Stmt> ParseTemplate(string source, string name)
    {
        var parser = new Parser(Lexer.Tokenize(source, name), name);
        var body = parser.Subparse(null);
        if (parser.Current.Kind != TokenKind.End) throw parser.Error($"unexpected {parser.Current.Describe()}");
        return body;
    }

    private Token Current => _tokens[_index];
    private Token Peek(int ahead = 1) => _tokens[Math.Min(_index + ahead, _tokens.Count - 1)];
    private Token Next() => _tokens[_index++];

    private TemplateSyntaxException Error(string message, Token? at = null)
    {
        Token t = at ?? Current;
        return new TemplateSyntaxException(message, _name, t.Line, t.Column);
    }

    private Token Expect(TokenKind kind, string? value = null)
    {
        Token t = Current;
        if (t.Kind != kind || (value is not null && t.Value != value))
        {
            string wanted = value is not null ? $"'{value}'" : kind switch
            {
                TokenKind.BlockEnd => "end of statement block '%}'",
                TokenKind.VariableEnd => "end of print statement '}}'",
                TokenKind.Name => "a name",
                _ => kind.ToString(),
            };
            throw Error($"expected {wanted}, got {t.Describe()}");
        }
        _index++;
        return t;
    }

    private bool SkipOperator(string op)
    {
        if (!Current.IsOperator(op)) return false;
        _index++;
        return true;
    }

    private bool SkipName(string name)
    {
        if (!Current.IsName(name)) return false;
        _index++;
        return true;
    }

    /// <summary>Parses statements until a block whose tag is one of <paramref name="endTags"/> (left current).</summary>
    private List<Stmt> Subparse(string[]? endTags)
    {
        Enter();
        try
        {
            return SubparseBody(endTags);
        }
        finally
        {
            _nesting--;
        }
    }

    private List<Stmt> SubparseBody(string[]? endTags)
    {
        var body = new List<Stmt>();
        while (true)
        {
            Token t = Current;
            switch (t.Kind)
            {
                case TokenKind.Data:
                    _index++;
                    body.Add(new TextStmt(t.Value, t.Line));
                    break;
                case TokenKind.VariableBegin:
                    _index++;
                    body.Add(new OutputStmt(ParseTuple(), t.Line));
                    Expect(TokenKind.VariableEnd);
                    break;
                case TokenKind.BlockBegin:
                    _index++;
                    Token tag = Current;
                    if (tag.Kind != TokenKind.Name) throw Error($"expected a tag name after '{{%', got {tag.Describe()}");
                    if (endTags is not null && Array.IndexOf(endTags, tag.Value) >= 0) return body;
                    body.Add(ParseStatement(endTags));
                    break;
                case TokenKind.End:
                    if (endTags is not null)
                        throw Error($"unexpected end of template: expected {string.Join(" or ", endTags.Select(e => $"'{e}'"))}");
                    return body;
                default:
                    throw Error($"unexpected {t.Describe()}");
            }
        }
    }

    /// <summary>Consumes the end tag name (already checked by Subparse) and the closing %}.</summary>
    private string EndTag()
    {
        string name = Next().Value;
        Expect(TokenKind.BlockEnd);
        return name;
    }

    private Stmt ParseStatement(string[]? enclosingEndTags)
    {
        Token tag = Next();
        switch (tag.Value)
        {
            case "if": return ParseIf(tag);
            case "for": return ParseFor(tag);
            case "set": return ParseSet(tag);
            case "macro": return ParseMacro(tag);
            case "call": return ParseCallBlock(tag);
            case "filter": return ParseFilterBlock(tag);
            case "with": return ParseWith(tag);
            case "generation":
            {
                // transformers' {% generation %} marks assistant text for training masks; it renders its body unchanged.
                Expect(TokenKind.BlockEnd);
                var body = Subparse(["endgeneration"]);
                EndTag();
                return new IfStmt([(new ConstExpr(true, tag.Line), body)], null, tag.Line);
            }
            case "break": Expect(TokenKind.BlockEnd); return new BreakStmt(tag.Line);
            case "continue": Expect(TokenKind.BlockEnd); return new ContinueStmt(tag.Line);
        }
        if (UnsupportedTags.Contains(tag.Value))
            throw Error($"the '{tag.Value}' tag is not supported by this chat-template engine", tag);
        string hint = enclosingEndTags is null ? "" : $" (the innermost open block expects {string.Join(" or ", enclosingEndTags.Select(e => $"'{e}'"))})";
        throw Error($"unknown tag '{tag.Value}'{hint}", tag);
    }

    private IfStmt ParseIf(Token tag)
    {
        var branches = new List<(Expr, List<Stmt>)>();
        List<Stmt>? elseBody = null;
        Expr condition = ParseTuple(withCondExpr: false);
        while (true)
        {
            Expect(TokenKind.BlockEnd);
            var body = Subparse(["elif", "else", "endif"]);
            branches.Add((condition, body));
            string end = Next().Value;
            if (end == "elif") { condition = ParseTuple(withCondExpr: false); continue; }
            if (end == "else")
            {
                Expect(TokenKind.BlockEnd);
                elseBody = Subparse(["endif"]);
                EndTag();
            }
            else Expect(TokenKind.BlockEnd);
            return new IfStmt(branches, elseBody, tag.Line);
        }
    }

    private ForStmt ParseFor(Token tag)
    {
        Target target = ParseAssignTarget(allowNamespace: false, endName: "in");
        if (!SkipName("in")) throw Error($"expected 'in' in for loop, got {Current.Describe()}");
        Expr iterable = ParseTuple(withCondExpr: false, endName: "recursive");
        Expr? filter = SkipName("if") ? ParseExpression() : null;
        bool recursive = SkipName("recursive");
        Expect(TokenKind.BlockEnd);
        var body = Subparse(["endfor", "else"]);
        List<Stmt>? elseBody = null;
        if (EndTag() == "else")
        {
            elseBody = Subparse(["endfor"]);
            EndTag();
        }
        return new ForStmt(target, iterable, filter, body, elseBody, recursive, tag.Line);
    }

    private Stmt ParseSet(Token tag)
    {
        Target target = ParseAssignTarget(allowNamespace: true, endName: null);
        if (SkipOperator("="))
        {
            Expr value = ParseTuple();
            Expect(TokenKind.BlockEnd);
            return new SetStmt(target, value, tag.Line);
        }
        var filters = new List<FilterExpr>();
        while (SkipOperator("|")) filters.Add(ParseFilterCall(null));
        Expect(TokenKind.BlockEnd);
        var body = Subparse(["endset"]);
        EndTag();
        return new SetBlockStmt(target, body, filters, tag.Line);
    }

    private Target ParseAssignTarget(bool allowNamespace, string? endName)
    {
        Token first = Current;
        if (allowNamespace && first.Kind == TokenKind.Name && Peek().IsOperator("."))
        {
            _index += 2;
            Token attr = Expect(TokenKind.Name);
            return new AttributeTarget(first.Value, attr.Value, first.Line);
        }
        var items = new List<Target>();
        bool parenthesised = SkipOperator("(");
        while (true)
        {
            Token name = Current;
            if (name.Kind != TokenKind.Name) throw Error($"expected a variable name to assign to, got {name.Describe()}");
            _index++;
            items.Add(new NameTarget(name.Value, name.Line));
            if (!SkipOperator(",")) break;
            if (Current.Kind != TokenKind.Name || (endName is not null && Current.IsName(endName))) break;
        }
        if (parenthesised) Expect(TokenKind.Operator, ")");
        return items.Count == 1 && !parenthesised ? items[0] : new TupleTarget(items, first.Line);
    }

    private List<(string Name, Expr? Default)> ParseSignature()
    {
        var parameters = new List<(string, Expr?)>();
        Expect(TokenKind.Operator, "(");
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0) Expect(TokenKind.Operator, ",");
            if (Current.IsOperator(")")) break;
            string name = Expect(TokenKind.Name).Value;
            parameters.Add((name, SkipOperator("=") ? ParseExpression() : null));
        }
        _index++;
        return parameters;
    }

    private MacroDefinition ParseMacroBody(string name, List<(string Name, Expr? Default)> signature, string endTag, int line)
    {
        var outer = _referencedNames;
        _referencedNames = new HashSet<string>(StringComparer.Ordinal);
        var body = Subparse([endTag]);
        EndTag();
        var used = _referencedNames;
        _referencedNames = outer;
        outer?.UnionWith(used);
        return new MacroDefinition(name, signature.Select(p => p.Name).ToList(), signature.Select(p => p.Default).ToList(), body, line)
        {
            UsesCaller = used.Contains("caller"),
            UsesVarargs = used.Contains("varargs"),
            UsesKwargs = used.Contains("kwargs"),
        };
    }

    private MacroStmt ParseMacro(Token tag)
    {
        string name = Expect(TokenKind.Name).Value;
        var signature = ParseSignature();
        Expect(TokenKind.BlockEnd);
        return new MacroStmt(ParseMacroBody(name, signature, "endmacro", tag.Line), tag.Line);
    }

    private CallBlockStmt ParseCallBlock(Token tag)
    {
        var signature = Current.IsOperator("(") ? ParseSignature() : [];
        Expr call = ParseExpression();
        if (call is not CallExpr callExpr) throw Error("expected a macro call after {% call %}", tag);
        Expect(TokenKind.BlockEnd);
        return new CallBlockStmt(callExpr, ParseMacroBody("caller", signature, "endcall", tag.Line), tag.Line);
    }

    private FilterBlockStmt ParseFilterBlock(Token tag)
    {
        var filters = new List<FilterExpr> { ParseFilterCall(null) };
        while (SkipOperator("|")) filters.Add(ParseFilterCall(null));
        Expect(TokenKind.BlockEnd);
        var body = Subparse(["endfilter"]);
        EndTag();
        return new FilterBlockStmt(filters, body, tag.Line);
    }

    private WithStmt ParseWith(Token tag)
    {
        var assignments = new List<(Target, Expr)>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (assignments.Count > 0) Expect(TokenKind.Operator, ",");
            Target target = ParseAssignTarget(allowNamespace: false, endName: null);
            Expect(TokenKind.Operator, "=");
            assignments.Add((target, ParseExpression()));
        }
        _index++;
        var body = Subparse(["endwith"]);
        EndTag();
        return new WithStmt(assignments, body, tag.Line);
    }
}
