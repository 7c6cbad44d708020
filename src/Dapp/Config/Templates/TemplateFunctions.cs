using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Dapp.Config.Templates;

/// <summary>
/// The functions a dappfile template may call (docs/dappfile.md): Go's builtins and the sprig functions dappfiles use,
/// with sprig's argument order (the piped value last) and conversions; <c>include</c> is the evaluator's.
/// </summary>
internal sealed class TemplateFunctions
{
    private sealed record Function(int Min, int Max, Func<IReadOnlyList<object?>, object?> Body);

    private readonly Dictionary<string, Function> _functions = new(StringComparer.Ordinal);

    public TemplateFunctions(Func<string, string?> environment)
    {
        // Go's builtins (and, or and include are the evaluator's: they need its state).
        Add("not", 1, 1, a => !Values.IsTrue(a[0]));
        Add("len", 1, 1, a => Length(a[0]));
        Add("index", 1, int.MaxValue, a => Index(a));
        Add("slice", 1, 3, a => Slice(a));
        Add("print", 0, int.MaxValue, a => Sprint(a));
        Add("println", 0, int.MaxValue, a => Sprint(a, "println"));
        Add("printf", 1, int.MaxValue, a => GoFormat.Sprintf(Str(a[0]), a.Skip(1).ToList()));
        Add("eq", 2, int.MaxValue, a => a.Skip(1).Any(b => Equal(a[0], b)));
        Add("ne", 2, 2, a => !Equal(a[0], a[1]));
        Add("lt", 2, 2, a => Compare(a[0], a[1]) < 0);
        Add("le", 2, 2, a => Compare(a[0], a[1]) <= 0);
        Add("gt", 2, 2, a => Compare(a[0], a[1]) > 0);
        Add("ge", 2, 2, a => Compare(a[0], a[1]) >= 0);
        Add("urlquery", 0, int.MaxValue, a => Uri.EscapeDataString(Sprint(a)).Replace("%20", "+"));
        Add("html", 0, int.MaxValue, a => System.Net.WebUtility.HtmlEncode(Sprint(a)));
        Add("js", 0, int.MaxValue, a => System.Text.Encodings.Web.JavaScriptEncoder.Default.Encode(Sprint(a)));

        // sprig: defaults and logic.
        Add("env", 1, 1, a => environment(Str(a[0])) ?? "");
        Add("expandenv", 1, 1, a => Regex.Replace(Str(a[0]), @"\$(\{(?<n>[A-Za-z_][A-Za-z0-9_]*)\}|(?<n>[A-Za-z_][A-Za-z0-9_]*))", m => environment(m.Groups["n"].Value) ?? ""));
        Add("default", 1, 2, a => a.Count < 2 || Values.IsEmpty(a[1]) ? a[0] : a[1]);
        Add("empty", 1, 1, a => Values.IsEmpty(a[0]));
        Add("coalesce", 0, int.MaxValue, a => a.FirstOrDefault(x => !Values.IsEmpty(x)));
        Add("ternary", 3, 3, a => Values.IsTrue(a[2]) ? a[0] : a[1]);
        Add("fail", 1, 1, a => throw new TemplateRuntimeException(Str(a[0])));

        // Lists and dicts.
        Add("list", 0, int.MaxValue, a => a.ToList());
        Add("dict", 0, int.MaxValue, a => Dict(a));
        Add("get", 2, 2, a => Map(a[0], "get").TryGetValue(Str(a[1]), out var v) ? v : "");
        Add("set", 3, 3, a => { var m = Map(a[0], "set"); m[Str(a[1])] = a[2]; return m; });
        Add("unset", 2, 2, a => { var m = Map(a[0], "unset"); m.Remove(Str(a[1])); return m; });
        Add("hasKey", 2, 2, a => Map(a[0], "hasKey").ContainsKey(Str(a[1])));
        Add("keys", 0, int.MaxValue, a => Bounded(a.SelectMany(m => Map(m, "keys").Keys).Select(k => (object?)k), "keys"));
        Add("values", 1, 1, a => Map(a[0], "values").Values.ToList());
        Add("sortAlpha", 1, 1, a => Strings(a[0]).Order(StringComparer.Ordinal).Select(s => (object?)s).ToList());
        Add("first", 1, 1, a => List(a[0], "first") is { Count: > 0 } l ? l[0] : null);
        Add("last", 1, 1, a => List(a[0], "last") is { Count: > 0 } l ? l[^1] : null);
        Add("rest", 1, 1, a => List(a[0], "rest").Skip(1).ToList());
        Add("initial", 1, 1, a => List(a[0], "initial").SkipLast(1).ToList());
        Add("append", 2, 2, a => Bounded(List(a[0], "append").Append(a[1]), "append"));
        Add("prepend", 2, 2, a => Bounded(List(a[0], "prepend").Prepend(a[1]), "prepend"));
        Add("has", 2, 2, a => List(a[1], "has").Any(x => Equal(x, a[0])));
        Add("uniq", 1, 1, a => List(a[0], "uniq").Aggregate(new List<object?>(), (acc, x) => { if (!acc.Any(y => Equal(x, y))) acc.Add(x); return acc; }));
        Add("until", 1, 1, a => Bounded(Step(0, Values.ToInteger(a[0], "until"), 1), "until"));
        Add("untilStep", 3, 3, a => Bounded(Step(Values.ToInteger(a[0], "untilStep"), Values.ToInteger(a[1], "untilStep"), Values.ToInteger(a[2], "untilStep")), "untilStep"));
        Add("seq", 0, 3, a => Seq(a.Select(x => Values.ToInteger(x, "seq")).ToList()));

        // Strings.
        Add("upper", 1, 1, a => Str(a[0]).ToUpperInvariant());
        Add("lower", 1, 1, a => Str(a[0]).ToLowerInvariant());
        Add("title", 1, 1, a => Title(Str(a[0])));
        Add("trim", 1, 1, a => Str(a[0]).Trim());
        Add("trimAll", 2, 2, a => Str(a[1]).Trim(Str(a[0]).ToCharArray()));
        Add("trimSuffix", 2, 2, a => Str(a[1]).EndsWith(Str(a[0]), StringComparison.Ordinal) ? Str(a[1])[..^Str(a[0]).Length] : Str(a[1]));
        Add("trimPrefix", 2, 2, a => Str(a[1]).StartsWith(Str(a[0]), StringComparison.Ordinal) ? Str(a[1])[Str(a[0]).Length..] : Str(a[1]));
        Add("replace", 3, 3, a => Replace(Str(a[2]), Str(a[0]), Str(a[1])));
        Add("contains", 2, 2, a => Str(a[1]).Contains(Str(a[0]), StringComparison.Ordinal));
        Add("hasPrefix", 2, 2, a => Str(a[1]).StartsWith(Str(a[0]), StringComparison.Ordinal));
        Add("hasSuffix", 2, 2, a => Str(a[1]).EndsWith(Str(a[0]), StringComparison.Ordinal));
        Add("split", 2, 2, a => Split(Str(a[1]), Str(a[0]), "split").Select((p, i) => (p, i)).ToDictionary(x => "_" + x.i.ToString(CultureInfo.InvariantCulture), x => (object?)x.p));
        Add("splitList", 2, 2, a => Split(Str(a[1]), Str(a[0]), "splitList").Select(p => (object?)p).ToList());
        Add("join", 2, 2, a => TemplateLimits.Join(Str(a[0]), Strings(a[1]).ToList(), "join"));
        Add("quote", 0, int.MaxValue, a => TemplateLimits.Join(" ", a.Where(x => x is not null).Select(x => GoFormat.Quote(Values.Text(x))).ToList(), "quote"));
        Add("squote", 0, int.MaxValue, a => TemplateLimits.Join(" ", a.Where(x => x is not null).Select(x => $"'{Values.Text(x)}'").ToList(), "squote"));
        Add("cat", 0, int.MaxValue, a => TemplateLimits.Join(" ", a.Where(x => x is not null).Select(Values.Text).ToList(), "cat"));
        Add("indent", 2, 2, a => Indent(Str(a[1]), Values.ToInteger(a[0], "indent"), "indent"));
        Add("nindent", 2, 2, a => "\n" + Indent(Str(a[1]), Values.ToInteger(a[0], "nindent"), "nindent"));
        Add("repeat", 2, 2, a => Repeat(Str(a[1]), Values.ToInteger(a[0], "repeat")));
        Add("substr", 3, 3, a => Substr(Str(a[2]), Values.ToInteger(a[0], "substr"), Values.ToInteger(a[1], "substr")));
        Add("trunc", 2, 2, a => Trunc(Str(a[1]), Values.ToInteger(a[0], "trunc")));
        Add("toString", 1, 1, a => Values.Text(a[0]));
        Add("b64enc", 1, 1, a => Convert.ToBase64String(Encoding.UTF8.GetBytes(Str(a[0]))));
        Add("b64dec", 1, 1, a => Base64Decode(Str(a[0])));
        Add("sha256sum", 1, 1, a => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Str(a[0])))));
        Add("regexMatch", 2, 2, a => GoRegex(Str(a[0]), "regexMatch").IsMatch(Str(a[1])));
        Add("regexReplaceAll", 3, 3, a => RegexReplace(GoRegex(Str(a[0]), "regexReplaceAll"), Str(a[1]), GoReplacement(Str(a[2]))));
        Add("regexFindAll", 3, 3, a => Bounded(GoRegex(Str(a[0]), "regexFindAll").Matches(Str(a[1]))
            .Take(Values.ToInteger(a[2], "regexFindAll") is var n and >= 0 ? (int)Math.Min(n, int.MaxValue) : int.MaxValue).Select(m => (object?)m.Value), "regexFindAll"));

        // Numbers.
        Add("add", 0, int.MaxValue, a => a.Sum(x => Values.ToInteger(x, "add")));
        Add("add1", 1, 1, a => Values.ToInteger(a[0], "add1") + 1);
        Add("sub", 2, 2, a => Values.ToInteger(a[0], "sub") - Values.ToInteger(a[1], "sub"));
        Add("mul", 1, int.MaxValue, a => a.Aggregate(1L, (p, x) => p * Values.ToInteger(x, "mul")));
        Add("div", 2, 2, a => Values.ToInteger(a[1], "div") is 0 ? throw new TemplateRuntimeException("integer divide by zero") : Values.ToInteger(a[0], "div") / Values.ToInteger(a[1], "div"));
        Add("mod", 2, 2, a => Values.ToInteger(a[1], "mod") is 0 ? throw new TemplateRuntimeException("integer divide by zero") : Values.ToInteger(a[0], "mod") % Values.ToInteger(a[1], "mod"));
        Add("max", 1, int.MaxValue, a => a.Max(x => Values.ToInteger(x, "max")));
        Add("min", 1, int.MaxValue, a => a.Min(x => Values.ToInteger(x, "min")));
        Add("atoi", 1, 1, a => long.TryParse(Str(a[0]), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0L);
        Add("int", 1, 1, a => Values.ToInteger(a[0], "int"));
        Add("int64", 1, 1, a => Values.ToInteger(a[0], "int64"));

        // Data formats (toYaml and fromYaml as Helm has them).
        Add("toJson", 1, 1, a => GoJson.Serialize(a[0]));
        Add("toYaml", 1, 1, a => TemplateYaml.Serialize(a[0]));
        Add("fromYaml", 1, 1, a => TemplateYaml.Parse(Str(a[0])));
    }

    public bool Has(string name) => _functions.ContainsKey(name);

    public object? Invoke(string name, IReadOnlyList<object?> args)
    {
        var function = _functions[name];
        if (args.Count < function.Min || args.Count > function.Max)
            throw new TemplateRuntimeException(function.Min == function.Max
                ? $"wrong number of args for {name}: want {function.Min} got {args.Count}"
                : $"wrong number of args for {name}: want {(args.Count < function.Min ? "at least " + function.Min : "at most " + function.Max)} got {args.Count}");
        try
        {
            return function.Body(args);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new TemplateRuntimeException($"{name}: the regular expression took longer than {e.MatchTimeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is ArithmeticException or ArgumentException or FormatException or InsufficientExecutionStackException)
        {
            // Values no function expects (an overflow, a count out of range) are the template's error, named with its place.
            throw new TemplateRuntimeException($"{name}: {e.Message}");
        }
    }

    private void Add(string name, int min, int max, Func<IReadOnlyList<object?>, object?> body) => _functions[name] = new Function(min, max, body);

    private static string Str(object? value) => Values.Text(value);

    private static Dictionary<string, object?> Map(object? value, string function) =>
        value as Dictionary<string, object?> ?? throw new TemplateRuntimeException($"{function}: expected a dict, got {Values.TypeName(value)}");

    private static List<object?> List(object? value, string function) =>
        value as List<object?> ?? throw new TemplateRuntimeException($"{function}: expected a list, got {Values.TypeName(value)}");

    /// <summary>sprig's strslice: a list's elements as strings (nil ones left out), a single value as a one-element list.</summary>
    private static IEnumerable<string> Strings(object? value) => value switch
    {
        List<object?> list => list.Where(x => x is not null).Select(Values.Text),
        null => [],
        _ => [Values.Text(value)],
    };

    private static Dictionary<string, object?> Dict(IReadOnlyList<object?> args)
    {
        var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i += 2)
            dict[Values.Text(args[i])] = i + 1 < args.Count ? args[i + 1] : "";
        return dict;
    }

    /// <summary>
    /// fmt.Sprint: a space between operands when neither is a string; fmt.Sprintln (<paramref name="function"/>
    /// println): a space between all of them and a newline after.
    /// </summary>
    private static string Sprint(IReadOnlyList<object?> args, string function = "print")
    {
        var line = function == "println";
        var text = new ValueText(function);
        for (int i = 0; i < args.Count; i++)
        {
            if (i > 0 && (line || args[i] is not string && args[i - 1] is not string)) text.Append(' ');
            if (args[i] is null) text.Append("<nil>");
            else Values.Print(text, args[i]);
        }
        return line ? text.Append('\n').ToString() : text.ToString();
    }

    /// <summary>A list made from <paramref name="items"/>, stopped as soon as it would be over the element bound.</summary>
    private static List<object?> Bounded<T>(IEnumerable<T> items, string what)
    {
        var list = new List<object?>();
        foreach (var item in items)
        {
            if (list.Count == TemplateLimits.MaxElements) TemplateLimits.CheckElements(list.Count + 1L, what);
            list.Add(item);
        }
        return list;
    }

    private static string Repeat(string text, long count)
    {
        count = Math.Max(0, count);
        TemplateLimits.CheckChars(count * text.Length, "repeat");
        return string.Concat(Enumerable.Repeat(text, (int)count));
    }

    private static string Indent(string text, long spaces, string what)
    {
        spaces = Math.Max(0, spaces);
        var lines = text.AsSpan().Count('\n') + 1L;
        TemplateLimits.CheckChars(text.Length + Math.Min(spaces, TemplateLimits.MaxValueChars + 1L) * lines, what);
        return Values.Indent(text, (int)spaces);
    }

    /// <summary>sprig's replace: every <paramref name="old"/> (none when it is empty) by <paramref name="by"/>, the result's size checked first.</summary>
    private static string Replace(string text, string old, string by)
    {
        if (old.Length == 0) return text;
        var count = CountOf(text, old);
        TemplateLimits.CheckChars(text.Length + count * ((long)by.Length - old.Length), "replace");
        return text.Replace(old, by, StringComparison.Ordinal);
    }

    private static long CountOf(string text, string part)
    {
        long count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    private static string[] Split(string text, string separator, string what)
    {
        TemplateLimits.CheckElements(separator.Length == 0 ? text.Length : CountOf(text, separator) + 1, what);
        return text.Split(separator);
    }

    private static string RegexReplace(Regex regex, string input, string replacement)
    {
        long size = input.Length;
        foreach (Match match in regex.Matches(input))
        {
            size += replacement.Length + 64L - match.Length;
            TemplateLimits.CheckChars(size, "regexReplaceAll");
        }
        return regex.Replace(input, replacement);
    }

    private static long Length(object? value) => value switch
    {
        string s => Encoding.UTF8.GetByteCount(s),
        List<object?> list => list.Count,
        Dictionary<string, object?> map => map.Count,
        null => throw new TemplateRuntimeException("len of nil pointer"),
        _ => throw new TemplateRuntimeException($"len of type {Values.TypeName(value)}"),
    };

    private static object? Index(IReadOnlyList<object?> args)
    {
        var item = args[0];
        foreach (var key in args.Skip(1))
        {
            item = item switch
            {
                List<object?> list => Values.ToInteger(key, "index") is var i && i >= 0 && i < list.Count ? list[(int)i]
                    : throw new TemplateRuntimeException($"index out of range: {Values.Print(key)}"),
                Dictionary<string, object?> map => map.GetValueOrDefault(Values.Text(key)),
                string s => Values.ToInteger(key, "index") is var j && j >= 0 && j < Encoding.UTF8.GetByteCount(s) ? (long)Encoding.UTF8.GetBytes(s)[j]
                    : throw new TemplateRuntimeException($"index out of range: {Values.Print(key)}"),
                null => throw new TemplateRuntimeException("index of untyped nil"),
                _ => throw new TemplateRuntimeException($"can't index item of type {Values.TypeName(item)}"),
            };
        }
        return item;
    }

    /// <summary>sprig's <c>slice LIST [START [END]]</c> (it replaces Go's builtin, lists only).</summary>
    private static object? Slice(IReadOnlyList<object?> args)
    {
        var bounds = args.Skip(1).Select(a => (int)Values.ToInteger(a, "slice")).ToList();
        if (args[0] is not List<object?> list) throw new TemplateRuntimeException($"list should be type of slice or array but {Values.TypeName(args[0])}");
        var start = bounds.Count > 0 ? bounds[0] : 0;
        var end = bounds.Count > 1 ? bounds[1] : list.Count;
        if (start < 0 || end > list.Count || start > end) throw new TemplateRuntimeException($"slice bounds out of range [{start}:{end}]");
        return list.GetRange(start, end - start);
    }

    private static bool Equal(object? a, object? b)
    {
        if (!Values.IsBasic(a) || !Values.IsBasic(b))
            throw new TemplateRuntimeException($"incompatible types for comparison: {Values.TypeName(a)} and {Values.TypeName(b)}");
        if (a is not null && b is not null && (a is string) != (b is string))
            throw new TemplateRuntimeException("incompatible types for comparison");
        return Values.BasicEquals(a, b);
    }

    private static int Compare(object? a, object? b) => (a, b) switch
    {
        (long x, long y) => x.CompareTo(y),
        (double x, double y) => x.CompareTo(y),
        (long x, double y) => ((double)x).CompareTo(y),
        (double x, long y) => x.CompareTo(y),
        (string x, string y) => string.CompareOrdinal(x, y),
        _ => throw new TemplateRuntimeException($"incompatible types for comparison: {Values.TypeName(a)} and {Values.TypeName(b)}"),
    };

    /// <summary>Go's strings.Title: the first letter of each word upper-cased (a word starts after anything but a letter, digit, underscore or apostrophe).</summary>
    private static string Title(string s)
    {
        var builder = new StringBuilder(s.Length);
        var previous = ' ';
        foreach (var c in s)
        {
            var separator = !(char.IsLetterOrDigit(previous) || previous == '_' || previous == '\'');
            builder.Append(separator ? char.ToUpperInvariant(c) : c);
            previous = c;
        }
        return builder.ToString();
    }

    private static string Substr(string s, long start, long end)
    {
        if (start < 0) return s[..(int)Math.Min(Math.Max(end, 0), s.Length)];
        if (end < 0 || end > s.Length) return start > s.Length ? "" : s[(int)start..];
        return start > end ? "" : s[(int)start..(int)end];
    }

    private static string Trunc(string s, long n) =>
        n < 0 ? (s.Length + n < 0 ? s : s[(int)(s.Length + n)..]) : s.Length > n ? s[..(int)n] : s;

    private static string Base64Decode(string s)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(s));
        }
        catch (FormatException)
        {
            // sprig returns the error's text.
            return "illegal base64 data at input byte 0";
        }
    }

    private static IEnumerable<long> Step(long start, long stop, long step)
    {
        if (step == 0) yield break;
        for (var i = start; step > 0 ? i < stop : i > stop; i += step) yield return i;
    }

    private static string Seq(IReadOnlyList<long> p)
    {
        // The count of numbers before any is made: (stop - start) / step, each at least one character and a space.
        var span = p.Count switch { 0 => 0, 1 => Math.Abs((decimal)p[0]), 2 => Math.Abs((decimal)p[1] - p[0]), _ => p[1] == 0 ? 0 : Math.Abs(((decimal)p[2] - p[0]) / p[1]) };
        if (span > TemplateLimits.MaxElements) TemplateLimits.CheckElements((long)Math.Min(span, long.MaxValue), "seq");
        IEnumerable<long> values = p.Count switch
        {
            0 => [],
            1 => Step(1, p[0] + (p[0] < 1 ? -1 : 1), p[0] < 1 ? -1 : 1),
            2 => Step(p[0], p[1] + (p[1] < p[0] ? -1 : 1), p[1] < p[0] ? -1 : 1),
            _ => p[2] < p[0] && p[1] > 0 ? [] : Step(p[0], p[2] + (p[2] < p[0] ? -1 : 1), p[1]),
        };
        return string.Join(" ", values);
    }

    /// <summary>Go's RE2 syntax is close to .NET's for what dappfiles use; a pattern .NET cannot compile is an error (sprig's regexMatch would answer false).</summary>
    private static Regex GoRegex(string pattern, string function)
    {
        try
        {
            // RE2 matches in linear time; so does .NET's non-backtracking engine (no catastrophic backtracking).
            return new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, TimeSpan.FromSeconds(2));
        }
        catch (ArgumentException e)
        {
            throw new TemplateRuntimeException($"{function}: invalid regular expression {GoFormat.Quote(pattern)}: {e.Message}");
        }
    }

    /// <summary>Go's replacement syntax: <c>$1</c>, <c>${1}</c>, <c>${name}</c>, <c>$$</c>; in Go <c>$1x</c> names group "1x", which does not exist, so it is empty.</summary>
    private static string GoReplacement(string replacement) =>
        Regex.Replace(replacement, @"\$(\$|\{[^}]*\}|[A-Za-z0-9_]+)", m =>
            m.Value == "$$" ? "$$" : m.Groups[1].Value.StartsWith('{') ? "$" + m.Groups[1].Value
            : m.Groups[1].Value.All(char.IsAsciiDigit) ? "${" + m.Groups[1].Value + "}" : "${" + m.Groups[1].Value + "}");
}
