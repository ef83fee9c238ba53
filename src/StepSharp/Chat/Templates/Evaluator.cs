using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>Expression evaluation (the half of the interpreter that computes values).</summary>
internal sealed partial class Interpreter
{
    public object? Evaluate(Expr expr, Scope scope)
    {
        _line = expr.Line;
        // Very long operator chains nest deeply; fail with an exception instead of overflowing the stack.
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (expr)
        {
            case ConstExpr c: return c.Value;
            case NameExpr n: return Lookup(n.Name, scope);
            case GetAttrExpr ga:
            {
                object? target = Evaluate(ga.Target, scope);
                _line = ga.Line; // the target may have been a macro call that moved _line into its body
                return ValueAccess.GetAttr(target, ga.Attribute);
            }
            case GetItemExpr gi:
            {
                object? target = Evaluate(gi.Target, scope);
                object? index = Evaluate(gi.Index, scope);
                _line = gi.Line;
                return ValueAccess.GetItem(target, index);
            }
            case SliceExpr sl:
            {
                object? target = Evaluate(sl.Target, scope);
                object? start = sl.Start is null ? null : Evaluate(sl.Start, scope);
                object? stop = sl.Stop is null ? null : Evaluate(sl.Stop, scope);
                object? step = sl.Step is null ? null : Evaluate(sl.Step, scope);
                return ValueAccess.Slice(target, start, stop, step);
            }
            case ListExpr list:
            {
                var items = new List<object?>(list.Items.Count);
                foreach (Expr item in list.Items) items.Add(Evaluate(item, scope));
                return items;
            }
            case TupleExpr tuple:
            {
                var items = new object?[tuple.Items.Count];
                for (int i = 0; i < items.Length; i++) items[i] = Evaluate(tuple.Items[i], scope);
                return new PyTuple(items);
            }
            case DictExpr dict:
            {
                var result = new PyDict(dict.Items.Count);
                foreach (var (key, value) in dict.Items)
                {
                    object? k = Evaluate(key, scope) ?? throw TemplateValueError.Type("None is not supported as a dict key");
                    result[k] = Evaluate(value, scope);
                }
                return result;
            }
            case CallExpr call: return EvaluateCall(call, scope);
            case FilterExpr filter:
                return ApplyFilter(filter, filter.Input is null ? null : Evaluate(filter.Input, scope), scope);
            case TestExpr test:
            {
                object? input = Evaluate(test.Input, scope);
                CallArgs args = EvaluateArgs(test.Args, scope);
                _line = test.Line;
                bool result = TemplateTests.Apply(this, test.Name, input, args);
                return test.Negated ? !result : result;
            }
            case BinaryExpr bin:
            {
                object? left = Evaluate(bin.Left, scope);
                object? right = Evaluate(bin.Right, scope);
                _line = bin.Line;
                return PyOps.Binary(bin.Op, left, right);
            }
            case NegateExpr neg:
            {
                object? value = Evaluate(neg.Operand, scope);
                if (!neg.Plus) return PyOps.Negate(value);
                return PyOps.IsNumber(value) ? value : throw TemplateValueError.Type($"bad operand type for unary +: '{PyOps.TypeName(value)}'");
            }
            case NotExpr not: return !PyOps.IsTrue(Evaluate(not.Operand, scope));
            case AndExpr and:
            {
                object? left = Evaluate(and.Left, scope);
                return PyOps.IsTrue(left) ? Evaluate(and.Right, scope) : left;
            }
            case OrExpr or:
            {
                object? left = Evaluate(or.Left, scope);
                return PyOps.IsTrue(left) ? left : Evaluate(or.Right, scope);
            }
            case ConcatExpr concat:
            {
                var sb = new StringBuilder();
                foreach (Expr part in concat.Parts) PyRepr.AppendStr(sb, Evaluate(part, scope));
                return sb.ToString();
            }
            case CompareExpr cmp: return EvaluateCompare(cmp, scope);
            case CondExpr cond:
                if (PyOps.IsTrue(Evaluate(cond.Condition, scope))) return Evaluate(cond.Then, scope);
                return cond.Else is null ? new Undefined("the inline if-expression evaluated to false and no else section was defined") : Evaluate(cond.Else, scope);
            default:
                throw new TemplateRuntimeException($"unsupported expression {expr.GetType().Name}", _templateName, expr.Line);
        }
    }

    private object? Lookup(string name, Scope scope)
    {
        if (scope.TryLookup(name, out object? value)) return value;
        return Globals.TryGet(name, out value) ? value : Undefined.Named(name);
    }

    private object EvaluateCompare(CompareExpr cmp, Scope scope)
    {
        object? left = Evaluate(cmp.First, scope);
        foreach (var (op, operand) in cmp.Rest)
        {
            object? right = Evaluate(operand, scope);
            _line = cmp.Line;
            bool ok = op switch
            {
                "==" => PyOps.Equal(left, right),
                "!=" => !PyOps.Equal(left, right),
                "<" => PyOps.Compare(left, right, op) < 0,
                "<=" => PyOps.Compare(left, right, op) <= 0,
                ">" => PyOps.Compare(left, right, op) > 0,
                ">=" => PyOps.Compare(left, right, op) >= 0,
                "in" => PyOps.Contains(right, left),
                "notin" => !PyOps.Contains(right, left),
                _ => throw TemplateValueError.Type($"unknown comparison {op}"),
            };
            if (!ok) return false;
            left = right;
        }
        return true;
    }

    public CallArgs EvaluateArgs(ArgList args, Scope scope)
    {
        if (args.Positional.Count == 0 && args.Named.Count == 0 && args.StarArgs is null && args.StarKwargs is null)
            return new CallArgs([], []);
        var positional = new List<object?>(args.Positional.Count);
        foreach (Expr e in args.Positional) positional.Add(Evaluate(e, scope));
        if (args.StarArgs is not null) positional.AddRange(ValueAccess.Iterate(Evaluate(args.StarArgs, scope)));
        var named = new List<KeyValuePair<string, object?>>(args.Named.Count);
        foreach (var (name, value) in args.Named) named.Add(new(name, Evaluate(value, scope)));
        if (args.StarKwargs is not null)
        {
            if (Evaluate(args.StarKwargs, scope) is not PyDict extra) throw TemplateValueError.Type("argument after ** must be a mapping");
            foreach (var kv in extra) named.Add(new(PyRepr.Str(kv.Key), kv.Value));
        }
        return new CallArgs(positional, named);
    }

    private object? EvaluateCall(CallExpr call, Scope scope)
    {
        // obj.method(...) dispatches straight to the method table without materialising a bound method.
        if (call.Callee is GetAttrExpr ga)
        {
            object? target = Evaluate(ga.Target, scope);
            if (target is not (Undefined or TemplateNamespace or LoopContext) && Methods.Has(target, ga.Attribute))
            {
                CallArgs methodArgs = EvaluateArgs(call.Args, scope);
                _line = call.Line;
                return Methods.Call(target, ga.Attribute, methodArgs);
            }
            object? callee = ValueAccess.GetAttr(target, ga.Attribute);
            return Invoke(callee, EvaluateArgs(call.Args, scope), call.Callee);
        }
        object? function = Evaluate(call.Callee, scope);
        CallArgs args = EvaluateArgs(call.Args, scope);
        _line = call.Line;
        return Invoke(function, args, call.Callee);
    }

    private object? Invoke(object? callee, CallArgs args, Expr calleeExpr)
    {
        switch (callee)
        {
            case TemplateCallable callable: return callable.Invoke(this, args);
            case LoopContext loop when args.Positional.Count == 1: return loop.Recurse(args.Positional[0]);
            case Undefined u: throw u.Failure();
            default:
                string what = calleeExpr is NameExpr n ? $"'{n.Name}' ({PyOps.TypeName(callee)})" : $"'{PyOps.TypeName(callee)}' object";
                throw TemplateValueError.Type($"{what} is not callable");
        }
    }

    public object? ApplyFilter(FilterExpr filter, object? input, Scope scope)
    {
        CallArgs args = EvaluateArgs(filter.Args, scope);
        _line = filter.Line;
        return Filters.Apply(this, filter.Name, input, args);
    }
}
