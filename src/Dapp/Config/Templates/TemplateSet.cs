using System.Text;

namespace Dapp.Config.Templates;

/// <summary>
/// Named templates and the functions they may call, as Go's <c>template.Template</c> with sprig's functions, the way dapp
/// rendered dappfiles: the dappfile itself, the <c>.dappfiles/**/*.tmpl</c> files under their relative paths, and every
/// <c>define</c>d or <c>block</c> template.
/// </summary>
internal sealed class TemplateSet
{
    private readonly Dictionary<string, ParsedTemplate> _templates = new(StringComparer.Ordinal);

    public TemplateSet(TemplateFunctions functions) => Functions = functions;

    public TemplateFunctions Functions { get; }

    /// <summary>Parses a text as the template <paramref name="name"/> (and whatever it defines).</summary>
    public void Add(string name, TemplateSource source) => Parser.Parse(name, source, n => Functions.Has(n) || Execution.OwnFunctions.Contains(n), _templates);

    /// <summary>Runs the template <paramref name="name"/> with <paramref name="data"/> as dot and <c>$</c>.</summary>
    public string Execute(string name, object? data)
    {
        var output = new StringBuilder();
        new Execution(this, output, new RenderBudget(), TemplateLimits.MaxOutputChars, "the rendering").Run(Get(name, null), data);
        return output.ToString();
    }

    internal ParsedTemplate Get(string name, Func<string, Exception>? missing) =>
        _templates.TryGetValue(name, out var template) ? template
            : throw (missing?.Invoke(name) ?? new DappException($"no template named \"{name}\""));
}

/// <summary>What one rendering has used of <see cref="TemplateLimits"/>, shared by the templates it runs.</summary>
internal sealed class RenderBudget
{
    public long Steps;
    public long Work;
    public int Nesting;
}

/// <summary>
/// One run of a template: walks its tree, writing text and the values of actions into <paramref name="output"/>
/// (at most <paramref name="maxOutput"/> characters, <paramref name="outputName"/> in the error).
/// </summary>
internal sealed class Execution(TemplateSet set, StringBuilder output, RenderBudget budget, int maxOutput, string outputName)
{
    /// <summary>Functions the evaluator runs itself: and/or stop early, include runs a template.</summary>
    public static readonly IReadOnlySet<string> OwnFunctions = new HashSet<string>(StringComparer.Ordinal) { "and", "or", "include" };
    private enum Flow { Normal, Break, Continue }

    private readonly List<(string Name, object? Value)> _variables = [];
    private ParsedTemplate _template = null!;

    public void Run(ParsedTemplate template, object? data)
    {
        _template = template;
        _variables.Add(("$", data));
        Walk(data, template.Root);
    }

    private DappfileException Error(Node node, string at, string message) =>
        _template.Source.Error(node.Offset, at.Length == 0 ? $"executing \"{_template.Name}\": {message}" : $"executing \"{_template.Name}\" at <{at}>: {message}");

    private TemplateLimitException LimitError(Node node, string at, string message)
    {
        var error = Error(node, at, message);
        return new TemplateLimitException(error.Location, error.Reason);
    }

    private void Step(Node node)
    {
        if (++budget.Steps > TemplateLimits.MaxSteps)
            throw LimitError(node, "", $"the templates took more than {TemplateLimits.MaxSteps} steps (an endless loop or recursion?)");
    }

    /// <summary>Runs <paramref name="body"/> one nesting level deeper (a control's list, a template call).</summary>
    private T Nested<T>(Node node, Func<T> body)
    {
        if (++budget.Nesting > TemplateLimits.MaxNesting)
            throw LimitError(node, "", $"templates, blocks and includes nest deeper than {TemplateLimits.MaxNesting} levels (a template that calls itself?)");
        try
        {
            if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
                throw LimitError(node, "", "the templates nest too deeply (more than this dapp's stack holds)");
            return body();
        }
        finally
        {
            budget.Nesting--;
        }
    }

    private void Write(Node node, string text)
    {
        if ((long)output.Length + text.Length > maxOutput)
            throw LimitError(node, "", $"{outputName} is larger than {TemplateLimits.Mib(maxOutput)}");
        output.Append(text);
    }

    /// <summary>Counts a function's result against the value and work bounds; one of its arguments given back (set's dict) costs nothing new.</summary>
    private object? Made(Node node, string function, object? value, IReadOnlyList<object?>? args = null)
    {
        long size = args is not null && args.Any(a => ReferenceEquals(a, value)) ? 1 : value switch
        {
            string s => s.Length,
            List<object?> list => list.Count,
            Dictionary<string, object?> map => map.Count,
            _ => 1,
        };
        try
        {
            if (value is string) TemplateLimits.CheckChars(size, function);
            else if (value is List<object?> or Dictionary<string, object?>) TemplateLimits.CheckElements(size, function);
        }
        catch (TemplateRuntimeException e)
        {
            throw LimitError(node, function, e.Message);
        }
        if ((budget.Work += size) > TemplateLimits.MaxWork)
            throw LimitError(node, function, $"the templates made more than {TemplateLimits.Mib(TemplateLimits.MaxWork)} of values in all (strings built up in a loop?)");
        return value;
    }

    private Flow Walk(object? dot, Node node)
    {
        Step(node);
        switch (node)
        {
            case ListNode list:
                foreach (var child in list.Nodes)
                    if (Walk(dot, child) is var flow and not Flow.Normal) return flow;
                return Flow.Normal;
            case TextNode text:
                Write(text, text.Text);
                return Flow.Normal;
            case ActionNode action:
                var value = Pipeline(dot, action.Pipe);
                if (action.Pipe.Variables.Count == 0) Write(action, Printed(action, value));
                return Flow.Normal;
            case ControlNode control:
                return Nested(control, () => Control(dot, control));
            case TemplateCallNode call:
                var template = set.Get(call.Name, name => Error(call, $"template {name}", $"no such template \"{name}\""));
                var data = call.Pipe is null ? null : Pipeline(dot, call.Pipe);
                return Nested(call, () =>
                {
                    try
                    {
                        new Execution(set, output, budget, maxOutput, outputName).Run(template, data);
                    }
                    catch (TemplateRuntimeException e)
                    {
                        throw Error(call, $"template {call.Name}", e.Message);
                    }
                    return Flow.Normal;
                });
            case BreakNode: return Flow.Break;
            case ContinueNode: return Flow.Continue;
            default:
                throw new InvalidOperationException($"unknown node {node.GetType().Name}");
        }
    }

    private Flow Control(object? dot, ControlNode control)
    {
        var mark = _variables.Count;
        try
        {
            if (control.Kind == ControlKind.Range) return Range(dot, control);
            var value = Pipeline(dot, control.Pipe);
            if (Values.IsTrue(value))
                return Walk(control.Kind == ControlKind.With ? value : dot, control.List);
            return control.Else is null ? Flow.Normal : Walk(dot, control.Else);
        }
        finally
        {
            _variables.RemoveRange(mark, _variables.Count - mark);
        }
    }

    private Flow Range(object? dot, ControlNode control)
    {
        var pipe = control.Pipe;
        var value = Pipeline(dot, pipe with { Variables = [] });
        IEnumerable<(object? Key, object? Element)> items = value switch
        {
            null => [],
            _ when ReferenceEquals(value, Values.Missing) => [],
            List<object?> list => list.Select((e, i) => ((object?)(long)i, e)),
            Dictionary<string, object?> map => map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => ((object?)p.Key, p.Value)),
            long n => LongRange(n).Select(i => ((object?)i, (object?)i)),
            _ => throw Error(control, "range", $"range can't iterate over {Values.Print(value)}"),
        };
        var any = false;
        var mark = _variables.Count;
        foreach (var (key, element) in items)
        {
            any = true;
            Step(control);
            if (pipe.Variables.Count == 1) _variables.Add((pipe.Variables[0], element));
            else if (pipe.Variables.Count == 2)
            {
                _variables.Add((pipe.Variables[0], key));
                _variables.Add((pipe.Variables[1], element));
            }
            var flow = Walk(element, control.List);
            _variables.RemoveRange(mark, _variables.Count - mark);
            if (flow == Flow.Break) break;
        }
        if (!any && control.Else is not null) return Walk(dot, control.Else);
        return Flow.Normal;
    }

    private static IEnumerable<long> LongRange(long count)
    {
        for (long i = 0; i < count; i++) yield return i;
    }

    private string Printed(Node node, object? value)
    {
        try
        {
            return Values.Print(value);
        }
        catch (TemplateRuntimeException e)
        {
            throw Error(node, "", e.Message);
        }
    }

    private object? Pipeline(object? dot, PipeNode pipe)
    {
        object? value = null;
        var hasFinal = false;
        foreach (var command in pipe.Commands)
        {
            value = Command(dot, command, value, hasFinal);
            hasFinal = true;
        }
        if (pipe.Variables.Count > 0)
        {
            if (pipe.IsAssign) Assign(pipe, pipe.Variables[0], value);
            else _variables.Add((pipe.Variables[0], value));
        }
        return value;
    }

    private void Assign(Node at, string name, object? value)
    {
        for (int i = _variables.Count - 1; i >= 0; i--)
            if (_variables[i].Name == name)
            {
                _variables[i] = (name, value);
                return;
            }
        throw Error(at, name, $"undefined variable: {name}");
    }

    private object? Variable(Node at, string name)
    {
        for (int i = _variables.Count - 1; i >= 0; i--)
            if (_variables[i].Name == name) return _variables[i].Value;
        throw Error(at, name, $"undefined variable: {name}");
    }

    private object? Command(object? dot, CommandNode command, object? final, bool hasFinal)
    {
        var first = command.Args[0];
        var args = command.Args.Skip(1).ToList();
        switch (first)
        {
            case IdentifierNode function:
                return Call(dot, function, args, final, hasFinal);
            case FieldNode or VariableNode or ChainNode:
                return Selector(dot, first, args, final, hasFinal);
        }
        if (args.Count > 0 || hasFinal)
            throw Error(first, Describe(first), "can't give argument to non-function " + Describe(first));
        if (first is NilNode) throw Error(first, "nil", "nil is not a command");
        return Argument(dot, first);
    }

    private static string Describe(Node node) => node switch
    {
        IdentifierNode i => i.Name,
        FieldNode f => "." + string.Join(".", f.Names),
        VariableNode v => v.Name + string.Concat(v.Fields.Select(f => "." + f)),
        ConstantNode c => c.Value is string s ? $"\"{s}\"" : Values.Print(c.Value),
        DotNode => ".",
        NilNode => "nil",
        _ => "(…)",
    };

    private object? Argument(object? dot, Node node) => node switch
    {
        DotNode => dot,
        NilNode => null,
        ConstantNode constant => constant.Value,
        FieldNode or VariableNode or ChainNode => Selector(dot, node, [], null, false),
        PipeNode pipe => Pipeline(dot, pipe),
        IdentifierNode function => Call(dot, function, [], null, false),
        _ => throw Error(node, Describe(node), "can't use this as an argument"),
    };

    /// <summary><c>.A.B</c>, <c>$x.A.B</c>, <c>(pipeline).A.B</c>: the receiver, then its fields.</summary>
    private object? Selector(object? dot, Node node, List<Node> args, object? final, bool hasFinal) => node switch
    {
        FieldNode field => Fields(field, dot, field.Names, dot, args, final, hasFinal, "."),
        VariableNode variable => Fields(variable, Variable(variable, variable.Name), variable.Fields, dot, args, final, hasFinal, variable.Name),
        ChainNode chain => Fields(chain, Argument(dot, chain.Target), chain.Fields, dot, args, final, hasFinal, "(…)"),
        _ => throw new InvalidOperationException($"not a selector: {node.GetType().Name}"),
    };

    /// <summary><c>receiver.A.B</c>: map keys, or a method of an object; only the last may take arguments.</summary>
    private object? Fields(Node at, object? receiver, IReadOnlyList<string> names, object? dot, List<Node> args, object? final, bool hasFinal, string start)
    {
        if (names.Count == 0)
        {
            if (args.Count > 0 || hasFinal) throw Error(at, start, $"can't give argument to non-function {start}");
            return receiver;
        }
        var path = start == "." ? "" : start;
        for (int i = 0; i < names.Count; i++)
        {
            var name = names[i];
            path += "." + name;
            var last = i == names.Count - 1;
            switch (receiver)
            {
                case Dictionary<string, object?> map:
                    if (last && (args.Count > 0 || hasFinal)) throw Error(at, path, $"{name} is not a method but has arguments");
                    receiver = map.TryGetValue(name, out var found) ? found : Values.Missing;
                    break;
                case var missing when ReferenceEquals(missing, Values.Missing):
                    return Values.Missing;
                case ITemplateObject obj when obj.Method(name) is { } method:
                    if (!last && args.Count > 0) throw Error(at, path, $"{name} has arguments but cannot be invoked as function");
                    var values = last ? args.Select(a => Argument(dot, a)).ToList() : [];
                    if (last && hasFinal) values.Add(final);
                    try
                    {
                        receiver = Made(at, path, method([.. values]));
                    }
                    catch (TemplateRuntimeException e)
                    {
                        throw Error(at, path, $"error calling {name}: {e.Message}");
                    }
                    break;
                case null:
                    throw Error(at, path, $"nil pointer evaluating interface {{}}.{name}");
                default:
                    throw Error(at, path, $"can't evaluate field {name} in type {Values.TypeName(receiver)}");
            }
        }
        return receiver;
    }

    private object? Call(object? dot, IdentifierNode function, List<Node> args, object? final, bool hasFinal)
    {
        // and/or stop at the first argument that decides (Go 1.18).
        if (function.Name is "and" or "or")
        {
            if (args.Count + (hasFinal ? 1 : 0) < 1) throw Error(function, function.Name, $"wrong number of args for {function.Name}: want at least 1 got 0");
            object? value = null;
            var all = args.Select(a => (Func<object?>)(() => Argument(dot, a))).ToList();
            if (hasFinal) all.Add(() => final);
            foreach (var next in all)
            {
                value = next();
                if (Values.IsTrue(value) != (function.Name == "and")) return value;
            }
            return value;
        }
        // A missing value is nil to a function (Go's validateType).
        var values = args.Select(a => Argument(dot, a)).Select(v => ReferenceEquals(v, Values.Missing) ? null : v).ToList();
        if (hasFinal) values.Add(ReferenceEquals(final, Values.Missing) ? null : final);
        try
        {
            if (function.Name == "include")
                return Made(function, "include", Include(function, values));
            return Made(function, function.Name, set.Functions.Invoke(function.Name, values), values);
        }
        catch (TemplateRuntimeException e)
        {
            throw Error(function, function.Name, $"error calling {function.Name}: {e.Message}");
        }
        catch (DappfileException e) when (function.Name == "include" && e is not TemplateLimitException)
        {
            // Where the include is, and where in the included template it failed.
            throw Error(function, function.Name, $"error calling include: {e.Message}");
        }
    }

    /// <summary><c>include NAME DATA</c>: runs a named template into a string (dapp's, as Helm's).</summary>
    private string Include(Node node, List<object?> values)
    {
        if (values.Count != 2) throw new TemplateRuntimeException($"wrong number of args for include: want 2 got {values.Count}");
        var name = values[0] as string ?? throw new TemplateRuntimeException($"the template name must be a string, got {Values.TypeName(values[0])}");
        var template = set.Get(name, n => new TemplateRuntimeException($"no such template \"{n}\""));
        var text = new StringBuilder();
        Nested(node, () =>
        {
            new Execution(set, text, budget, TemplateLimits.MaxValueChars, $"the text of include \"{name}\"").Run(template, values[1]);
            return 0;
        });
        return text.ToString();
    }
}
