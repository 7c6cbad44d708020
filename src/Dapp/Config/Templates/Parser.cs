using System.Globalization;

namespace Dapp.Config.Templates;

/// <summary>A parsed template: its tree and the source its offsets refer to.</summary>
internal sealed record ParsedTemplate(string Name, ListNode Root, TemplateSource Source);

/// <summary>
/// Go's text/template parser: turns tokens into a tree, and the <c>define</c>d and <c>block</c> templates of a text
/// into named trees. Functions are checked to exist at parse time, as Go does.
/// </summary>
internal sealed class Parser
{
    private readonly IReadOnlyList<Token> _tokens;
    private readonly TemplateSource _source;
    private readonly Func<string, bool> _isFunction;
    private readonly Dictionary<string, ParsedTemplate> _defined;
    private int _next;
    private int _rangeDepth;
    private int _nesting;

    private Parser(TemplateSource source, Func<string, bool> isFunction, Dictionary<string, ParsedTemplate> defined)
    {
        _source = source;
        _tokens = new Lexer(source.Text, source).Lex();
        _isFunction = isFunction;
        _defined = defined;
    }

    /// <summary>Parses a text as the template <paramref name="name"/>, adding it and the templates it defines to <paramref name="into"/>.</summary>
    public static void Parse(string name, TemplateSource source, Func<string, bool> isFunction, Dictionary<string, ParsedTemplate> into)
    {
        var parser = new Parser(source, isFunction, into);
        var root = parser.ParseList(topLevel: true, out _);
        // A file made only of definitions does not replace a template of its name that has content (Go's rule).
        if (!into.ContainsKey(name) || root.Nodes.Any(n => n is not TextNode t || !string.IsNullOrWhiteSpace(t.Text)))
            into[name] = new ParsedTemplate(name, root, source);
    }

    private Token Peek => _tokens[_next];
    private Token PeekAt(int ahead) => _tokens[Math.Min(_next + ahead, _tokens.Count - 1)];
    private Token Take() => _tokens[_next++];

    private DappfileException Error(Token at, string message) => _source.Error(at.Offset, message);

    private Token Expect(TokenKind kind, string context)
    {
        var token = Take();
        if (token.Kind != kind) throw Error(token, $"unexpected {Describe(token)} in {context}");
        return token;
    }

    private static string Describe(Token token) => token.Kind switch
    {
        TokenKind.Eof => "EOF",
        TokenKind.RightDelim => "\"}}\"",
        TokenKind.Text => "text",
        _ => $"\"{token.Value}\"",
    };

    /// <summary>Parses one nesting level deeper (a control's list, parentheses), within <see cref="TemplateLimits.MaxNesting"/>.</summary>
    private T Nested<T>(Token at, Func<T> parse)
    {
        if (++_nesting > TemplateLimits.MaxNesting)
            throw Error(at, $"if/range/with/define/block and parentheses nest deeper than {TemplateLimits.MaxNesting} levels");
        try
        {
            if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
                throw Error(at, "the template nests too deeply (more than this dapp's stack holds)");
            return parse();
        }
        finally
        {
            _nesting--;
        }
    }

    /// <summary>Nodes up to <c>{{end}}</c> or <c>{{else</c> (returned in <paramref name="stop"/>, the delimiter consumed) or EOF at the top level.</summary>
    private ListNode ParseList(bool topLevel, out Token stop, Token? opener = null)
    {
        var nodes = new List<Node>();
        var start = Peek.Offset;
        while (true)
        {
            var token = Peek;
            if (token.Kind == TokenKind.Eof)
            {
                if (!topLevel)
                    throw opener is null ? Error(token, "unexpected EOF") : Error(opener, $"unexpected EOF: this {{{{{opener.Value}}}}} is not closed with {{{{end}}}}");
                stop = token;
                return new ListNode(start, nodes);
            }
            if (token.Kind == TokenKind.Text)
            {
                Take();
                nodes.Add(new TextNode(token.Offset, token.Value));
                continue;
            }
            var delim = Expect(TokenKind.LeftDelim, "template");
            var keyword = Peek;
            switch (keyword.Kind)
            {
                case TokenKind.End or TokenKind.Else:
                    if (topLevel) throw Error(keyword, $"unexpected {{{{{keyword.Value}}}}}");
                    Take();
                    if (keyword.Kind == TokenKind.End) Expect(TokenKind.RightDelim, "end");
                    stop = keyword;
                    return new ListNode(start, nodes);
                case TokenKind.If: Take(); nodes.Add(Nested(keyword, () => ParseControl(ControlKind.If, keyword))); break;
                case TokenKind.Range: Take(); nodes.Add(Nested(keyword, () => ParseControl(ControlKind.Range, keyword))); break;
                case TokenKind.With: Take(); nodes.Add(Nested(keyword, () => ParseControl(ControlKind.With, keyword))); break;
                case TokenKind.Define:
                    if (!topLevel) throw Error(keyword, "{{define}} is allowed only at the top level");
                    Take();
                    Nested(keyword, () => { ParseDefine(keyword); return 0; });
                    break;
                case TokenKind.Template: Take(); nodes.Add(ParseTemplateCall(keyword)); break;
                case TokenKind.Block:
                    Take();
                    nodes.Add(Nested(keyword, () => ParseBlock(keyword)));
                    break;
                case TokenKind.Break or TokenKind.Continue:
                    Take();
                    if (_rangeDepth == 0) throw Error(keyword, $"{{{{{keyword.Value}}}}} outside {{{{range}}}}");
                    Expect(TokenKind.RightDelim, keyword.Value);
                    nodes.Add(keyword.Kind == TokenKind.Break ? new BreakNode(keyword.Offset) : new ContinueNode(keyword.Offset));
                    break;
                default:
                    var pipe = ParsePipeline("command", allowDeclarations: true, allowTwoVariables: false, TokenKind.RightDelim);
                    nodes.Add(new ActionNode(delim.Offset, pipe));
                    break;
            }
        }
    }

    private ControlNode ParseControl(ControlKind kind, Token keyword)
    {
        var context = keyword.Value;
        var pipe = ParsePipeline(context, allowDeclarations: true, allowTwoVariables: kind == ControlKind.Range, TokenKind.RightDelim);
        if (kind == ControlKind.Range) _rangeDepth++;
        ListNode list;
        Token stop;
        try
        {
            list = ParseList(topLevel: false, out stop, keyword);
        }
        finally
        {
            if (kind == ControlKind.Range) _rangeDepth--;
        }
        ListNode? otherwise = null;
        if (stop.Kind == TokenKind.Else)
        {
            // {{else if …}} (and {{else with …}}) is an if inside the else list, closed by the same {{end}}.
            if ((Peek.Kind == TokenKind.If && kind == ControlKind.If) || (Peek.Kind == TokenKind.With && kind == ControlKind.With))
            {
                var nested = Take();
                otherwise = new ListNode(nested.Offset, [Nested(nested, () => ParseControl(kind, nested))]);
            }
            else
            {
                Expect(TokenKind.RightDelim, "else");
                otherwise = ParseList(topLevel: false, out var end, keyword);
                if (end.Kind != TokenKind.End) throw Error(end, $"expected {{{{end}}}}, found a second {{{{else}}}} in {{{{{context}}}}}");
            }
        }
        return new ControlNode(keyword.Offset, kind, pipe, list, otherwise);
    }

    private void ParseDefine(Token keyword)
    {
        var name = TemplateName("define");
        Expect(TokenKind.RightDelim, "define");
        var body = ParseList(topLevel: false, out var stop, keyword);
        if (stop.Kind != TokenKind.End) throw Error(stop, "unexpected {{else}} in {{define}}");
        _defined[name] = new ParsedTemplate(name, body, _source);
    }

    private TemplateCallNode ParseBlock(Token keyword)
    {
        var name = TemplateName("block");
        var pipe = ParsePipeline("block", allowDeclarations: false, allowTwoVariables: false, TokenKind.RightDelim);
        var body = ParseList(topLevel: false, out var stop, keyword);
        if (stop.Kind != TokenKind.End) throw Error(stop, "unexpected {{else}} in {{block}}");
        _defined[name] = new ParsedTemplate(name, body, _source);
        return new TemplateCallNode(keyword.Offset, name, pipe);
    }

    private TemplateCallNode ParseTemplateCall(Token keyword)
    {
        var name = TemplateName("template");
        PipeNode? pipe = null;
        if (Peek.Kind != TokenKind.RightDelim)
            pipe = ParsePipeline("template", allowDeclarations: false, allowTwoVariables: false, TokenKind.RightDelim);
        else Take();
        return new TemplateCallNode(keyword.Offset, name, pipe);
    }

    private string TemplateName(string context)
    {
        var token = Take();
        if (token.Kind is not (TokenKind.String or TokenKind.RawString)) throw Error(token, $"unexpected {Describe(token)} in {context}: expected a quoted template name");
        return token.Value;
    }

    /// <summary>A pipeline up to and including <paramref name="end"/> (<c>}}</c>, or <c>)</c> inside parentheses).</summary>
    private PipeNode ParsePipeline(string context, bool allowDeclarations, bool allowTwoVariables, TokenKind end)
    {
        var start = Peek;
        var variables = new List<string>();
        var isAssign = false;
        if (allowDeclarations && Peek.Kind == TokenKind.Variable)
        {
            if (PeekAt(1).Kind is TokenKind.Declare or TokenKind.Assign)
            {
                variables.Add(Take().Value);
                isAssign = Take().Kind == TokenKind.Assign;
            }
            else if (PeekAt(1).Kind == TokenKind.Comma && allowTwoVariables && PeekAt(2).Kind == TokenKind.Variable && PeekAt(3).Kind is TokenKind.Declare or TokenKind.Assign)
            {
                variables.Add(Take().Value);
                Take();
                variables.Add(Take().Value);
                isAssign = Take().Kind == TokenKind.Assign;
            }
        }
        var commands = new List<CommandNode>();
        while (true)
        {
            commands.Add(ParseCommand(context));
            var token = Take();
            if (token.Kind == end) break;
            if (token.Kind != TokenKind.Pipe) throw Error(token, $"unexpected {Describe(token)} in {context}");
        }
        return new PipeNode(start.Offset, variables, isAssign, commands);
    }

    private CommandNode ParseCommand(string context)
    {
        var args = new List<Node>();
        var start = Peek;
        while (Peek.Kind is not (TokenKind.Pipe or TokenKind.RightDelim or TokenKind.RightParen))
            args.Add(ParseOperand(context));
        if (args.Count == 0) throw Error(Peek, $"missing value for {context}");
        return new CommandNode(start.Offset, args);
    }

    private Node ParseOperand(string context)
    {
        var term = ParseTerm(context);
        var fields = new List<string>();
        var last = _tokens[_next - 1];
        // Fields right after a term, with no space between: (pipe).A.B, $x.A, .A.B.
        while (Peek.Kind == TokenKind.Field && Peek.Offset == last.End)
        {
            last = Take();
            fields.Add(last.Value[1..]);
        }
        if (fields.Count == 0) return term;
        return term switch
        {
            FieldNode f => f with { Names = [.. f.Names, .. fields] },
            VariableNode v => v with { Fields = [.. v.Fields, .. fields] },
            DotNode or NilNode or ConstantNode => throw _source.Error(term.Offset, $"unexpected . after term in {context}"),
            _ => new ChainNode(term.Offset, term, fields),
        };
    }

    private Node ParseTerm(string context)
    {
        var token = Take();
        switch (token.Kind)
        {
            case TokenKind.Identifier:
                if (!_isFunction(token.Value)) throw Error(token, $"function \"{token.Value}\" not defined");
                return new IdentifierNode(token.Offset, token.Value);
            case TokenKind.Dot: return new DotNode(token.Offset);
            case TokenKind.Nil: return new NilNode(token.Offset);
            case TokenKind.Variable: return new VariableNode(token.Offset, token.Value, []);
            case TokenKind.Field: return new FieldNode(token.Offset, [token.Value[1..]]);
            case TokenKind.Bool: return new ConstantNode(token.Offset, token.Value == "true");
            case TokenKind.String or TokenKind.RawString: return new ConstantNode(token.Offset, token.Value);
            case TokenKind.Char: return new ConstantNode(token.Offset, (long)char.ConvertToUtf32(token.Value, 0));
            case TokenKind.Number: return new ConstantNode(token.Offset, Number(token));
            case TokenKind.LeftParen:
                return Nested(token, () => ParsePipeline(context, allowDeclarations: false, allowTwoVariables: false, TokenKind.RightParen));
            default:
                throw Error(token, $"unexpected {Describe(token)} in {context}");
        }
    }

    private object Number(Token token)
    {
        var text = token.Value.Replace("_", "");
        var negative = text.StartsWith('-');
        var digits = text.TrimStart('+', '-');
        long integer;
        var parsed = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(digits[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out integer)
            : digits.StartsWith("0o", StringComparison.OrdinalIgnoreCase) ? TryBase(digits[2..], 8, out integer)
            : digits.StartsWith("0b", StringComparison.OrdinalIgnoreCase) ? TryBase(digits[2..], 2, out integer)
            : digits.Length > 1 && digits[0] == '0' && digits.All(char.IsAsciiDigit) ? TryBase(digits[1..], 8, out integer)
            : long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out integer);
        if (parsed) return negative ? -integer : integer;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real)) return real;
        throw Error(token, $"bad number syntax: \"{token.Value}\"");
    }

    private static bool TryBase(string digits, int radix, out long value)
    {
        value = 0;
        try
        {
            value = Convert.ToInt64(digits, radix);
            return digits.Length > 0;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            return false;
        }
    }
}
