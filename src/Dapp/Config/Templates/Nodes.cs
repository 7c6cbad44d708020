namespace Dapp.Config.Templates;

/// <summary>A node of a parsed template; <see cref="Offset"/> is where it starts in its source, for errors.</summary>
internal abstract record Node(int Offset);

internal sealed record ListNode(int Offset, IReadOnlyList<Node> Nodes) : Node(Offset);

internal sealed record TextNode(int Offset, string Text) : Node(Offset);

/// <summary><c>{{ pipeline }}</c>: its value is printed unless the pipeline declares or assigns variables.</summary>
internal sealed record ActionNode(int Offset, PipeNode Pipe) : Node(Offset);

internal enum ControlKind { If, Range, With }

/// <summary><c>if</c>, <c>range</c> and <c>with</c>: a pipeline, its list, and the list of <c>else</c> (an <c>else if</c> is an if inside it).</summary>
internal sealed record ControlNode(int Offset, ControlKind Kind, PipeNode Pipe, ListNode List, ListNode? Else) : Node(Offset);

/// <summary><c>{{template "name" pipeline}}</c> (and the call half of <c>block</c>).</summary>
internal sealed record TemplateCallNode(int Offset, string Name, PipeNode? Pipe) : Node(Offset);

internal sealed record BreakNode(int Offset) : Node(Offset);

internal sealed record ContinueNode(int Offset) : Node(Offset);

/// <summary>Commands joined by <c>|</c>, each one's value the last argument of the next; optionally declaring or assigning variables.</summary>
internal sealed record PipeNode(int Offset, IReadOnlyList<string> Variables, bool IsAssign, IReadOnlyList<CommandNode> Commands) : Node(Offset);

/// <summary>A function call or a single operand (field, variable, constant, parenthesised pipeline).</summary>
internal sealed record CommandNode(int Offset, IReadOnlyList<Node> Args) : Node(Offset);

/// <summary>A function's name as a command's first word.</summary>
internal sealed record IdentifierNode(int Offset, string Name) : Node(Offset);

/// <summary><c>.A.B</c>: fields (map keys, or a method) of dot.</summary>
internal sealed record FieldNode(int Offset, IReadOnlyList<string> Names) : Node(Offset);

/// <summary><c>$x.A.B</c>, <c>$</c>.</summary>
internal sealed record VariableNode(int Offset, string Name, IReadOnlyList<string> Fields) : Node(Offset);

/// <summary><c>(pipeline).A.B</c>.</summary>
internal sealed record ChainNode(int Offset, Node Target, IReadOnlyList<string> Fields) : Node(Offset);

internal sealed record DotNode(int Offset) : Node(Offset);

internal sealed record NilNode(int Offset) : Node(Offset);

/// <summary>A constant: a string, a number (long or double), a bool, a character (its code point).</summary>
internal sealed record ConstantNode(int Offset, object Value) : Node(Offset);
