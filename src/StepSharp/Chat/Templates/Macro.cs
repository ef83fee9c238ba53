namespace StepSharp.Chat.Templates;

/// <summary>
/// A macro value: calling it renders its body in a fresh frame (parent = the frame it was defined in) and
/// returns the text. Parameters bind Python style; unknown extras go to varargs/kwargs only when the body
/// mentions them, as in Jinja2.
/// </summary>
internal sealed class Macro(MacroDefinition definition, Scope closure) : TemplateCallable
{
    public override string Name => definition.Name;

    public override object? Invoke(Interpreter interpreter, CallArgs args)
    {
        var scope = new Scope(closure);
        var parameters = definition.Parameters;
        int positional = args.Positional.Count;
        if (positional > parameters.Count && !definition.UsesVarargs)
            throw TemplateValueError.Type($"macro '{Name}' takes not more than {parameters.Count} argument(s)");

        var bound = new bool[parameters.Count];
        for (int i = 0; i < Math.Min(positional, parameters.Count); i++)
        {
            scope.Set(parameters[i], args.Positional[i]);
            bound[i] = true;
        }
        var extraKwargs = new PyDict();
        object? caller = null;
        foreach (var kv in args.Named)
        {
            int idx = parameters.IndexOf(kv.Key);
            if (idx >= 0)
            {
                if (bound[idx]) throw TemplateValueError.Type($"macro '{Name}' got multiple values for argument '{kv.Key}'");
                scope.Set(kv.Key, kv.Value);
                bound[idx] = true;
            }
            else if (kv.Key == "caller") caller = kv.Value;
            else if (definition.UsesKwargs) extraKwargs[kv.Key] = kv.Value;
            else throw TemplateValueError.Type($"macro '{Name}' takes no keyword argument '{kv.Key}'");
        }
        // Defaults are evaluated in the macro frame, left to right, so they may refer to earlier parameters.
        for (int i = 0; i < parameters.Count; i++)
        {
            if (bound[i]) continue;
            Expr? fallback = definition.Defaults[i];
            scope.Set(parameters[i], fallback is null ? new Undefined($"parameter '{parameters[i]}' was not provided") : interpreter.Evaluate(fallback, scope));
        }
        if (definition.UsesVarargs)
        {
            var rest = new List<object?>();
            for (int i = parameters.Count; i < positional; i++) rest.Add(args.Positional[i]);
            scope.Set("varargs", new PyTuple(rest.ToArray()));
        }
        if (definition.UsesKwargs) scope.Set("kwargs", extraKwargs);
        if (definition.UsesCaller) scope.Set("caller", caller ?? Undefined.Named("caller"));
        interpreter.EnterCall();
        try
        {
            return interpreter.Capture(definition.Body, scope);
        }
        finally
        {
            interpreter.LeaveCall();
        }
    }
}
