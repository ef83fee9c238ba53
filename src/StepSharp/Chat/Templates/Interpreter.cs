using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>
/// Walks the statement tree and writes the output. One interpreter serves one render call; it owns the
/// output buffers and the globals (range, namespace, raise_exception, strftime_now...).
/// </summary>
internal sealed partial class Interpreter
{
    private enum Flow { Normal, Break, Continue }

    private readonly string _templateName;
    private readonly Func<DateTime> _clock;
    private StringBuilder _out;
    private int _line;

    public Interpreter(string templateName, Func<DateTime> clock)
    {
        _templateName = templateName;
        _clock = clock;
        _out = new StringBuilder(4096);
    }

    public DateTime Now() => _clock();

    // Python stops runaway recursion with RecursionError; without a limit a recursive macro would
    // overflow the .NET stack and kill the process.
    private const int MaxCallDepth = 200;
    private int _callDepth;

    public void EnterCall()
    {
        if (++_callDepth > MaxCallDepth)
        {
            _callDepth = 0;
            throw new TemplateValueError("RecursionError", $"maximum recursion depth exceeded ({MaxCallDepth} nested macro calls)");
        }
    }

    public void LeaveCall() => _callDepth = Math.Max(0, _callDepth - 1);

    public string Render(List<Stmt> body, Scope root)
    {
        try
        {
            Execute(body, root);
        }
        catch (TemplateException)
        {
            throw;
        }
        catch (TemplateRaiseSignal raised)
        {
            throw new TemplateRaisedException(raised.Message, _templateName, _line);
        }
        catch (TemplateValueError e)
        {
            throw new TemplateRuntimeException($"{e.PythonType}: {e.Message}", _templateName, _line, e);
        }
        catch (Exception e) when (e is InvalidCastException or ArgumentException or IndexOutOfRangeException or OverflowException
                                       or FormatException or InvalidOperationException or KeyNotFoundException or NullReferenceException
                                       or InsufficientExecutionStackException)
        {
            throw new TemplateRuntimeException($"{e.GetType().Name}: {e.Message}", _templateName, _line, e);
        }
        return _out.ToString();
    }

    /// <summary>Renders <paramref name="body"/> into a fresh buffer and returns the text (macros, set blocks).</summary>
    public string Capture(List<Stmt> body, Scope scope)
    {
        var saved = _out;
        _out = new StringBuilder();
        try
        {
            Execute(body, scope);
            return _out.ToString();
        }
        finally
        {
            _out = saved;
        }
    }

    private Flow Execute(List<Stmt> body, Scope scope)
    {
        foreach (Stmt stmt in body)
        {
            Flow flow = ExecuteOne(stmt, scope);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow ExecuteOne(Stmt stmt, Scope scope)
    {
        _line = stmt.Line;
        switch (stmt)
        {
            case TextStmt text:
                _out.Append(text.Text);
                return Flow.Normal;
            case OutputStmt output:
                PyRepr.AppendStr(_out, Evaluate(output.Value, scope));
                return Flow.Normal;
            case IfStmt ifs:
                foreach (var (condition, branch) in ifs.Branches)
                    if (PyOps.IsTrue(Evaluate(condition, scope))) return Execute(branch, scope);
                return ifs.Else is null ? Flow.Normal : Execute(ifs.Else, scope);
            case ForStmt loop:
                ExecuteFor(loop, Evaluate(loop.Iterable, scope), scope, 0);
                return Flow.Normal;
            case SetStmt set:
                Assign(set.Target, Evaluate(set.Value, scope), scope);
                return Flow.Normal;
            case SetBlockStmt setBlock:
            {
                object? value = Capture(setBlock.Body, scope);
                foreach (var filter in setBlock.Filters) value = ApplyFilter(filter, value, scope);
                Assign(setBlock.Target, value, scope);
                return Flow.Normal;
            }
            case MacroStmt macro:
                scope.Set(macro.Definition.Name, new Macro(macro.Definition, scope));
                return Flow.Normal;
            case CallBlockStmt call:
            {
                var caller = new Macro(call.Caller, scope);
                CallArgs args = EvaluateArgs(call.Call.Args, scope);
                args.Named.Add(new KeyValuePair<string, object?>("caller", caller));
                object? callee = Evaluate(call.Call.Callee, scope);
                PyRepr.AppendStr(_out, Invoke(callee, args, call.Call.Callee));
                return Flow.Normal;
            }
            case FilterBlockStmt filterBlock:
            {
                object? value = Capture(filterBlock.Body, scope);
                foreach (var filter in filterBlock.Filters) value = ApplyFilter(filter, value, scope);
                PyRepr.AppendStr(_out, value);
                return Flow.Normal;
            }
            case WithStmt with:
            {
                var inner = new Scope(scope);
                foreach (var (target, value) in with.Assignments) Assign(target, Evaluate(value, scope), inner);
                return Execute(with.Body, inner);
            }
            case BreakStmt: return Flow.Break;
            case ContinueStmt: return Flow.Continue;
            default:
                throw new TemplateRuntimeException($"unsupported statement {stmt.GetType().Name}", _templateName, stmt.Line);
        }
    }

    private void ExecuteFor(ForStmt loop, object? iterable, Scope scope, int depth)
    {
        List<object?> items = ValueAccess.Iterate(iterable);
        var loopScope = new Scope(scope);
        if (loop.Filter is not null)
        {
            // Jinja filters first, so loop.index/length/last count only the kept items.
            var kept = new List<object?>(items.Count);
            foreach (object? item in items)
            {
                Assign(loop.Target, item, loopScope);
                if (PyOps.IsTrue(Evaluate(loop.Filter, loopScope))) kept.Add(item);
            }
            items = kept;
        }
        if (items.Count == 0)
        {
            if (loop.Else is not null) Execute(loop.Else, scope);
            return;
        }
        Func<object?, string>? recurse = loop.Recursive
            ? inner => CaptureLoop(loop, inner, scope, depth + 1)
            : null;
        var context = new LoopContext(items, depth, recurse);
        for (int i = 0; i < items.Count; i++)
        {
            context.Index0 = i;
            Assign(loop.Target, items[i], loopScope);
            loopScope.Set("loop", context);
            if (Execute(loop.Body, loopScope) == Flow.Break) break;
        }
    }

    private string CaptureLoop(ForStmt loop, object? iterable, Scope scope, int depth)
    {
        var saved = _out;
        _out = new StringBuilder();
        try
        {
            ExecuteFor(loop, iterable, scope, depth);
            return _out.ToString();
        }
        finally
        {
            _out = saved;
        }
    }

    private void Assign(Target target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameTarget name:
                scope.Set(name.Name, value);
                break;
            case TupleTarget tuple:
            {
                List<object?> parts = ValueAccess.Iterate(value);
                if (parts.Count != tuple.Items.Count)
                    throw TemplateValueError.Value(parts.Count > tuple.Items.Count
                        ? $"too many values to unpack (expected {tuple.Items.Count})"
                        : $"not enough values to unpack (expected {tuple.Items.Count}, got {parts.Count})");
                for (int i = 0; i < parts.Count; i++) Assign(tuple.Items[i], parts[i], scope);
                break;
            }
            case AttributeTarget attr:
                if (!scope.TryLookup(attr.Owner, out object? owner) || owner is not TemplateNamespace ns)
                    throw new TemplateValueError("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
                ns.Attributes[attr.Attribute] = value;
                break;
        }
    }
}
