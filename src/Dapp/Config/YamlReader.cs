namespace Dapp.Config;

/// <summary>Typed access to <see cref="YNode"/> values, each failure naming the node's position.</summary>
internal static partial class YamlReader
{
    public static YMapping Mapping(YNode node, string what) =>
        node as YMapping ?? throw new DappfileException(node.Location, $"{what} must be a mapping");

    public static string? OptionalString(YNode node, string what) => node switch
    {
        YScalar s when s.IsNull => null,
        YScalar s => s.Value,
        _ => throw new DappfileException(node.Location, $"{what} must be a string"),
    };

    public static string String(YNode node, string what) =>
        OptionalString(node, what) ?? throw new DappfileException(node.Location, $"{what} must not be empty");

    /// <summary>A string or a list of strings (dapp's "one or many").</summary>
    public static IReadOnlyList<string> StringList(YNode node, string what) => node switch
    {
        YScalar s when s.IsNull => [],
        YScalar s => [s.Value],
        YSequence seq => seq.Items.Select(i => String(i, $"each item of {what}")).ToList(),
        _ => throw new DappfileException(node.Location, $"{what} must be a string or a list of strings"),
    };

    public static IReadOnlyList<KeyValuePair<string, string>> StringMap(YNode node, string what)
    {
        if (node is YScalar { IsNull: true }) return [];
        var map = Mapping(node, what);
        return map.Entries.Select(e => new KeyValuePair<string, string>(e.Key.Value, OptionalString(e.Value, $"{what}.{e.Key.Value}") ?? "")).ToList();
    }

    /// <summary>
    /// ENV: a key is what a process's environment can hold, NAME=VALUE split at the first '=': no '=', no whitespace or
    /// control character ("A=B C" would become A with the value "B C=…").
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> EnvMap(YNode node, string what)
    {
        var map = StringMap(node, what);
        if (node is YMapping mapping)
            foreach (var (key, _) in mapping.Entries)
                if (key.Value.Length == 0 || key.Value.Any(c => c == '=' || char.IsWhiteSpace(c) || char.IsControl(c)))
                    throw new DappfileException(key.Location, $"{what} key '{DappfileParser.Shorten(key.Value)}' is not a variable name: it must not be empty or contain '=', whitespace or control characters");
        return map;
    }

    public static IReadOnlyList<YNode> Sequence(YNode node, string what) => node switch
    {
        YScalar s when s.IsNull => [],
        YSequence seq => seq.Items,
        _ => throw new DappfileException(node.Location, $"{what} must be a list"),
    };

    public static void RejectUnknownKeys(YMapping map, string what, IReadOnlyCollection<string> allowed)
    {
        foreach (var (key, _) in map.Entries)
            if (!allowed.Contains(key.Value))
                throw new DappfileException(key.Location, $"unknown key '{key.Value}' in {what} (allowed: {string.Join(", ", allowed)})");
    }

    public static string AbsolutePath(YNode node, string what)
    {
        var value = String(node, what);
        if (!value.StartsWith('/'))
            throw new DappfileException(node.Location, $"{what} must be an absolute path, got '{DappfileParser.Shorten(value)}'");
        if (value.Any(char.IsControl) && value.First(char.IsControl) is var control)
            throw new DappfileException(node.Location, $"{what} must not contain control characters (a {(control == '\n' ? "newline" : $"U+{(int)control:X4}")}), got '{DappfileParser.Shorten(value.ReplaceLineEndings(" "))}'");
        // /a/../../etc is /etc: a path that climbs says something else than it seems to.
        if (value.Split('/').Contains(".."))
            throw new DappfileException(node.Location, $"{what} must not contain '..', got '{DappfileParser.Shorten(value)}'");
        return value;
    }

    /// <summary>
    /// An image name: a string, never a number, bool or null that YAML typed (<c>from: 123</c> is a mistake, not the image
    /// "123"); quoted, any text is a string.
    /// </summary>
    public static string ImageName(YNode node, string what)
    {
        if (node is YScalar { IsPlain: true } scalar && YamlTypeOf(scalar.Value) is { } type)
            throw new DappfileException(node.Location, $"{what} must be an image name, got the {type} {DappfileParser.Shorten(scalar.Value)} (quote it if it is one)");
        return String(node, what);
    }

    /// <summary>What YAML makes of a plain scalar other than a string ("number", "boolean"), null for a string.</summary>
    private static string? YamlTypeOf(string value) =>
        value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE" or "yes" or "Yes" or "no" or "No" or "on" or "On" or "off" or "Off" ? "boolean"
        : double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _) || NumberPattern().IsMatch(value) ? "number"
        : null;

    [System.Text.RegularExpressions.GeneratedRegex(@"^[-+]?(0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+|[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|\.(inf|Inf|INF|nan|NaN|NAN))$")]
    private static partial System.Text.RegularExpressions.Regex NumberPattern();

    /// <summary>A user or group for chown: a name or a numeric id, nothing a shell would read as more.</summary>
    public static string? UserOrGroup(YNode node, string what)
    {
        var value = OptionalString(node, what);
        if (value is not null && !UserOrGroupPattern().IsMatch(value))
            throw new DappfileException(node.Location, $"{what} must be a user or group name or a numeric id, got '{DappfileParser.Shorten(value)}'");
        return value;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?:[0-9]{1,10}|[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?)$")]
    private static partial System.Text.RegularExpressions.Regex UserOrGroupPattern();

    /// <summary>An absolute path for a bind mount: the engine's bind syntax gives ':' and ',' meanings of their own.</summary>
    public static string BindPath(YNode node, string what)
    {
        var value = AbsolutePath(node, what);
        if (value.IndexOfAny([':', ',']) >= 0)
            throw new DappfileException(node.Location, $"{what} must not contain ':' or ',' (got '{DappfileParser.Shorten(value)}')");
        return value;
    }

    public static IReadOnlyList<string> RelativeGlobs(YNode node, string what)
    {
        var globs = StringList(node, what);
        foreach (var g in globs)
            if (g.StartsWith('/'))
                throw new DappfileException(node.Location, $"{what} must be relative paths or globs, got '{g}'");
        return globs;
    }
}
