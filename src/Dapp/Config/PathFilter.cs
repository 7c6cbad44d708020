using System.Text.RegularExpressions;

namespace Dapp.Config;

/// <summary>
/// includePaths/excludePaths semantics: a relative path is selected when it or a parent directory matches an include
/// (or there are no includes) and neither it nor a parent matches an exclude. Directories on the way to an include
/// are selected too, so their modes and owners are carried.
/// </summary>
public sealed class PathFilter
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

    private static string Normalize(string glob) => (glob.StartsWith("./", StringComparison.Ordinal) ? glob[2..] : glob).TrimEnd('/');

    private static IEnumerable<string> Prefixes(string relative)
    {
        for (int i = relative.IndexOf('/'); i >= 0; i = relative.IndexOf('/', i + 1)) yield return relative[..i];
        yield return relative;
    }
}
