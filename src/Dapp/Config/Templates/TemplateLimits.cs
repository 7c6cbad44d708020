using System.Runtime.CompilerServices;
using System.Text;

namespace Dapp.Config.Templates;

/// <summary>
/// The bounds every rendering stays within (docs/reliability.md#limits): a dappfile may come from an untrusted merge
/// request, and its templates must not take the CI host's memory, stack or time. Each bound, when hit, is an error
/// that names it and the template place.
/// </summary>
internal static class TemplateLimits
{
    /// <summary>The rendered dappfile, as the dappfile itself (4 MiB).</summary>
    public const int MaxOutputChars = 4 << 20;

    /// <summary>One value a function makes or a file <c>.Files.Get</c> reads.</summary>
    public const int MaxValueChars = 4 << 20;

    /// <summary>A list or dict (and the counts of <c>until</c>, <c>untilStep</c>, <c>seq</c> before they are made).</summary>
    public const int MaxElements = 100_000;

    /// <summary>Nesting of if/range/with/parentheses when parsing, of template calls and blocks when running, of values when printing.</summary>
    public const int MaxNesting = 1000;

    /// <summary>Nodes walked and range iterations in one rendering: an endless loop or an exponential recursion ends here.</summary>
    public const long MaxSteps = 2_000_000;

    /// <summary>Characters and elements of every value the functions make, added up: string building in a loop ends here.</summary>
    public const long MaxWork = 64L << 20;

    public static string Mib(long chars) => $"{chars >> 20} MiB";

    /// <summary>Throws when a value of <paramref name="chars"/> characters would be over <see cref="MaxValueChars"/>; checked before it is made.</summary>
    public static void CheckChars(long chars, string what)
    {
        if (chars > MaxValueChars)
            throw new TemplateRuntimeException($"{what}: the result would be {chars} characters, more than the {Mib(MaxValueChars)} a template value may have");
    }

    /// <summary>Throws when a list of <paramref name="count"/> elements would be over <see cref="MaxElements"/>; checked before it is made.</summary>
    public static void CheckElements(long count, string what)
    {
        if (count > MaxElements)
            throw new TemplateRuntimeException($"{what}: the result would have {count} elements, more than the {MaxElements} a template list or dict may have");
    }

    /// <summary>Strings joined, their total size checked before the join.</summary>
    public static string Join(string separator, IReadOnlyList<string> parts, string what)
    {
        long size = Math.Max(0, parts.Count - 1) * (long)separator.Length;
        foreach (var part in parts) size += part.Length;
        CheckChars(size, what);
        return string.Join(separator, parts);
    }

    /// <summary>The deep recursions of a rendering run on a thread of this stack size; nesting bounds keep them far below it.</summary>
    public const int StackBytes = 64 << 20;

    /// <summary>Runs <paramref name="body"/> on a thread with a stack of <see cref="StackBytes"/>, passing its result or exception on.</summary>
    public static T OnLargeStack<T>(Func<T> body)
    {
        T result = default!;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = body();
            }
            catch (Exception e)
            {
                failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
        }, StackBytes) { Name = "dapp-render" };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    /// <summary>A last guard under the nesting bounds: a stack near its end is an error, never a crash.</summary>
    public static void EnsureStack()
    {
        if (!RuntimeHelpers.TryEnsureSufficientExecutionStack())
            throw new TemplateRuntimeException($"the templates nest too deeply (more than this dapp's stack holds)");
    }
}

/// <summary>
/// A bound of <see cref="TemplateLimits"/> was hit: said once, where it was hit, not wrapped again by each template or
/// include that called the one that hit it (a recursion would repeat the place a thousand times).
/// </summary>
internal sealed class TemplateLimitException(SourceLocation location, string message) : DappfileException(location, message);

/// <summary>
/// Text made from template values (printing, <c>toJson</c>): bounded by <see cref="TemplateLimits.MaxValueChars"/>, and
/// refusing a value that contains itself (a dict made to hold itself with <c>set</c>) or nests deeper than
/// <see cref="TemplateLimits.MaxNesting"/>, where a plain recursion would never end.
/// </summary>
internal sealed class ValueText(string what)
{
    private readonly StringBuilder _text = new();
    private readonly HashSet<object> _open = new(ReferenceEqualityComparer.Instance);

    public int Length => _text.Length;

    public ValueText Append(string text)
    {
        TemplateLimits.CheckChars((long)_text.Length + text.Length, what);
        _text.Append(text);
        return this;
    }

    public ValueText Append(char c)
    {
        TemplateLimits.CheckChars(_text.Length + 1L, what);
        _text.Append(c);
        return this;
    }

    /// <summary>Before writing a list's or dict's elements; pair with <see cref="Leave"/>.</summary>
    public void Enter(object container) => Enter(container, _open, what);

    public void Leave(object container) => _open.Remove(container);

    /// <summary>The cycle and depth check for any walk over values (<paramref name="open"/>: the containers being walked).</summary>
    public static void Enter(object container, HashSet<object> open, string what)
    {
        if (!open.Add(container))
            throw new TemplateRuntimeException($"{what}: the value contains itself (a {Values.TypeName(container)} that holds itself, made with set)");
        if (open.Count > TemplateLimits.MaxNesting)
            throw new TemplateRuntimeException($"{what}: the value nests deeper than {TemplateLimits.MaxNesting} levels");
        TemplateLimits.EnsureStack();
    }

    public override string ToString() => _text.ToString();
}
