using System.Text.RegularExpressions;

namespace Dapp.Config;

/// <summary>
/// includePaths/excludePaths semantics: a relative path is selected when it or a parent directory matches an include
/// (or there are no includes) and neither it nor a parent matches an exclude. Directories on the way to an include
/// are selected too, so their modes and owners are carried.
/// </summary>
internal sealed class PathFilter
{
    private readonly IReadOnlyList<string> _includes;
    private readonly IReadOnlyList<Regex> _includeRegexes;
    private readonly IReadOnlyList<Regex> _excludeRegexes;

    public PathFilter(IReadOnlyList<string> includes, IReadOnlyList<string> excludes)
    {
        _includes = includes.Select(Normalize).ToList();
        _includeRegexes = _includes.Select(Glob.ToRegex).ToList();
        _excludeRegexes = excludes.Select(Normalize).Select(Glob.ToRegex).ToList();
    }

    public bool IsSelected(string relative)
    {
        var prefixes = Prefixes(relative).ToList();
        var included = _includes.Count == 0
            || prefixes.Any(p => _includeRegexes.Any(r => r.IsMatch(p)))
            || _includes.Any(i => i.StartsWith(relative + "/", StringComparison.Ordinal));
        return included && !prefixes.Any(p => _excludeRegexes.Any(r => r.IsMatch(p)));
    }

    /// <summary>
    /// Whether a directory may hold selected paths: false when an exclude matches it or a parent, or when no include
    /// can match it, a parent, or anything under it (judged by each include's directories before its first wildcard).
    /// </summary>
    public bool MayContainSelected(string directory)
    {
        var prefixes = Prefixes(directory).ToList();
        if (prefixes.Any(p => _excludeRegexes.Any(r => r.IsMatch(p)))) return false;
        return _includes.Count == 0 || IsSelected(directory) || _includes.Any(i => LiteralDirectory(i) is var literal
            && (literal.StartsWith(directory + "/", StringComparison.Ordinal) || (directory + "/").StartsWith(literal, StringComparison.Ordinal)));
    }

    /// <summary>The include's leading directories without wildcards, with a trailing slash ("" when it starts with one).</summary>
    private static string LiteralDirectory(string include)
    {
        var wildcard = include.IndexOfAny(['*', '?', '[', '{']);
        var literal = wildcard < 0 ? include + "/" : include[..wildcard];
        return literal[..(literal.LastIndexOf('/') + 1)];
    }

    private static string Normalize(string glob) => (glob.StartsWith("./", StringComparison.Ordinal) ? glob[2..] : glob).TrimEnd('/');

    private static IEnumerable<string> Prefixes(string relative)
    {
        for (int i = relative.IndexOf('/'); i >= 0; i = relative.IndexOf('/', i + 1)) yield return relative[..i];
        yield return relative;
    }
}
