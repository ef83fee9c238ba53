namespace StepSharp.Chat.Templates;

/// <summary>Expression grammar, one method per precedence level as in jinja2/parser.py.</summary>
internal sealed partial class Parser
{
    private static readonly HashSet<string> CompareOperators = ["==", "!=", "<", "<=", ">", ">="];

    private Expr ParseExpression(bool withCondExpr = true)
    {
        Enter();
        try
        {
            return withCondExpr ? ParseCondExpr() : ParseOr();
        }
        finally
        {
            _nesting--;
        }
    }

    private Expr ParseCondExpr()
    {
        Expr expr = ParseOr();
        while (Current.IsName("if"))
        {
            int line = Next().Line;
            Expr condition = ParseOr();
            Expr? otherwise = SkipName("else") ? ParseCondExpr() : null;
            expr = new CondExpr(condition, expr, otherwise, line);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        Expr left = ParseAnd();
        while (Current.IsName("or")) { int line = Next().Line; left = new OrExpr(left, ParseAnd(), line); }
        return left;
    }

    private Expr ParseAnd()
    {
        Expr left = ParseNot();
        while (Current.IsName("and")) { int line = Next().Line; left = new AndExpr(left, ParseNot(), line); }
        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            int line = Next().Line;
            Enter();
            var operand = ParseNot();
            _nesting--;
            return new NotExpr(operand, line);
        }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        int line = Current.Line;
        Expr first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            Token t = Current;
            if (t.Kind == TokenKind.Operator && CompareOperators.Contains(t.Value)) { _index++; rest.Add((t.Value, ParseMath1())); }
            else if (t.IsName("in")) { _index++; rest.Add(("in", ParseMath1())); }
            else if (t.IsName("not") && Peek().IsName("in")) { _index += 2; rest.Add(("notin", ParseMath1())); }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, line);
    }

    private Expr ParseMath1()
    {
        Expr left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            Token op = Next();
            left = new BinaryExpr(op.Value, left, ParseConcat(), op.Line);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        int line = Current.Line;
        Expr first = ParseMath2();
        if (!Current.IsOperator("~")) return first;
        var parts = new List<Expr> { first };
        while (SkipOperator("~")) parts.Add(ParseMath2());
        return new ConcatExpr(parts, line);
    }

    private Expr ParseMath2()
    {
        Expr left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            Token op = Next();
            left = new BinaryExpr(op.Value, left, ParsePow(), op.Line);
        }
        return left;
    }

    private Expr ParsePow()
    {
        Expr left = ParseUnary();
        while (Current.IsOperator("**"))
        {
            Token op = Next();
            left = new BinaryExpr("**", left, ParseUnary(), op.Line);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter = true)
    {
        Token t = Current;
        Expr node;
        if (t.IsOperator("-") || t.IsOperator("+"))
        {
            _index++;
            Enter();
            node = new NegateExpr(ParseUnary(false), t.Value == "+", t.Line);
            _nesting--;
        }
        else node = ParsePrimary();
        node = ParsePostfix(node);
        return withFilter ? ParseFilterExpr(node) : node;
    }

    private Expr ParsePrimary()
    {
        Token t = Next();
        switch (t.Kind)
        {
            case TokenKind.Name:
                switch (t.Value)
                {
                    case "true" or "True": return new ConstExpr(true, t.Line);
                    case "false" or "False": return new ConstExpr(false, t.Line);
                    case "none" or "None": return new ConstExpr(null, t.Line);
                }
                _referencedNames?.Add(t.Value);
                return new NameExpr(t.Value, t.Line);
            case TokenKind.String:
                string s = t.Value;
                while (Current.Kind == TokenKind.String) s += Next().Value; // adjacent literals concatenate
                return new ConstExpr(s, t.Line);
            case TokenKind.Integer:
            case TokenKind.Float:
                return new ConstExpr(t.Literal, t.Line);
            case TokenKind.Operator when t.Value == "(":
                Expr inner = ParseTuple(explicitParentheses: true);
                Expect(TokenKind.Operator, ")");
                return inner;
            case TokenKind.Operator when t.Value == "[":
                var items = new List<Expr>();
                while (!Current.IsOperator("]"))
                {
                    if (items.Count > 0) Expect(TokenKind.Operator, ",");
                    if (Current.IsOperator("]")) break;
                    items.Add(ParseExpression());
                }
                _index++;
                return new ListExpr(items, t.Line);
            case TokenKind.Operator when t.Value == "{":
                var pairs = new List<(Expr, Expr)>();
                while (!Current.IsOperator("}"))
                {
                    if (pairs.Count > 0) Expect(TokenKind.Operator, ",");
                    if (Current.IsOperator("}")) break;
                    Expr key = ParseExpression();
                    Expect(TokenKind.Operator, ":");
                    pairs.Add((key, ParseExpression()));
                }
                _index++;
                return new DictExpr(pairs, t.Line);
        }
        _index--;
        throw Error($"unexpected {t.Describe()} in expression");
    }

    /// <summary>Comma-separated expressions; more than one (or a trailing comma) makes a tuple.</summary>
    private Expr ParseTuple(bool withCondExpr = true, string? endName = null, bool explicitParentheses = false)
    {
        int line = Current.Line;
        var items = new List<Expr>();
        bool isTuple = false;
        while (true)
        {
            if (items.Count > 0) Expect(TokenKind.Operator, ",");
            Token t = Current;
            if (t.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd || t.IsOperator(")") || (endName is not null && t.IsName(endName)))
                break;
            items.Add(ParseExpression(withCondExpr));
            if (Current.IsOperator(",")) isTuple = true;
            else break;
        }
        if (!isTuple)
        {
            if (items.Count > 0) return items[0];
            if (!explicitParentheses) throw Error($"expected an expression, got {Current.Describe()}");
        }
        return new TupleExpr(items, line);
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            Token t = Current;
            if (t.IsOperator(".") || t.IsOperator("[")) node = ParseSubscript(node);
            else if (t.IsOperator("(")) node = new CallExpr(node, ParseCallArgs(), t.Line);
            else return node;
        }
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            Token t = Current;
            if (t.IsOperator("|")) { _index++; node = ParseFilterCall(node); }
            else if (t.IsName("is")) { _index++; node = ParseTest(node, t.Line); }
            else if (t.IsOperator("(")) node = new CallExpr(node, ParseCallArgs(), t.Line);
            else return node;
        }
    }

    private Expr ParseSubscript(Expr node)
    {
        Token t = Next();
        if (t.Value == ".")
        {
            Token attr = Next();
            if (attr.Kind == TokenKind.Name) return new GetAttrExpr(node, attr.Value, t.Line);
            if (attr.Kind == TokenKind.Integer) return new GetItemExpr(node, new ConstExpr(attr.Literal, attr.Line), t.Line);
            throw Error($"expected an attribute name after '.', got {attr.Describe()}", attr);
        }
        var indexes = new List<Expr>();
        while (!Current.IsOperator("]"))
        {
            if (indexes.Count > 0) Expect(TokenKind.Operator, ",");
            indexes.Add(ParseSubscribed(node, t.Line));
        }
        _index++;
        if (indexes.Count == 0) throw Error("expected a subscript inside []", t);
        if (indexes.Count == 1 && indexes[0] is SliceExpr slice) return slice;
        Expr index = indexes.Count == 1 ? indexes[0] : new TupleExpr(indexes, t.Line);
        return new GetItemExpr(node, index, t.Line);
    }

    private Expr ParseSubscribed(Expr target, int line)
    {
        Expr? start = null;
        if (!Current.IsOperator(":"))
        {
            start = ParseExpression();
            if (!Current.IsOperator(":")) return start;
        }
        _index++; // ':'
        Expr? stop = Current.IsOperator("]") || Current.IsOperator(",") || Current.IsOperator(":") ? null : ParseExpression();
        Expr? step = null;
        if (SkipOperator(":") && !Current.IsOperator("]") && !Current.IsOperator(",")) step = ParseExpression();
        return new SliceExpr(target, start, stop, step, line);
    }

    private ArgList ParseCallArgs()
    {
        Expect(TokenKind.Operator, "(");
        var positional = new List<Expr>();
        var named = new List<(string, Expr)>();
        Expr? star = null, starStar = null;
        bool first = true;
        while (!Current.IsOperator(")"))
        {
            if (!first) Expect(TokenKind.Operator, ",");
            first = false;
            if (Current.IsOperator(")")) break;
            if (SkipOperator("*")) star = ParseExpression();
            else if (SkipOperator("**")) starStar = ParseExpression();
            else if (Current.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                string name = Next().Value;
                _index++;
                named.Add((name, ParseExpression()));
            }
            else
            {
                if (named.Count > 0) throw Error("positional argument follows keyword argument");
                positional.Add(ParseExpression());
            }
        }
        _index++;
        return new ArgList(positional, named, star, starStar);
    }

    private string ParseDottedName()
    {
        string name = Expect(TokenKind.Name).Value;
        while (Current.IsOperator(".") && Peek().Kind == TokenKind.Name) { _index++; name += "." + Next().Value; }
        return name;
    }

    private FilterExpr ParseFilterCall(Expr? input)
    {
        Token at = Current;
        int line = at.Line;
        string name = ParseDottedName();
        // Jinja resolves filter names when compiling, so an unknown filter is a template error, not a render error.
        if (!Filters.Exists(name)) throw Error($"no filter named '{name}'", at);
        ArgList args = Current.IsOperator("(") ? ParseCallArgs() : ArgList.Empty;
        return new FilterExpr(input, name, args, line);
    }

    private Expr ParseTest(Expr input, int line)
    {
        bool negated = SkipName("not");
        Token at = Current;
        string name = ParseDottedName();
        if (!TemplateTests.Exists(name)) throw Error($"no test named '{name}'", at);
        ArgList args = ArgList.Empty;
        Token t = Current;
        if (t.IsOperator("(")) args = ParseCallArgs();
        else if ((t.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float || t.IsOperator("[") || t.IsOperator("{"))
                 && !t.IsName("else") && !t.IsName("or") && !t.IsName("and"))
        {
            if (t.IsName("is")) throw Error("you cannot chain multiple tests with 'is'");
            Expr arg = ParsePostfix(ParsePrimary());
            args = new ArgList([arg], [], null, null);
        }
        return new TestExpr(input, name, args, negated, line);
    }
}
