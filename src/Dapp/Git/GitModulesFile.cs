using System.Text;

namespace Dapp.Git;

/// <summary>A submodule as a commit's <c>.gitmodules</c> declares it.</summary>
internal sealed record SubmoduleEntry(string Name, string Path, string Url);

/// <summary>
/// Reads <c>.gitmodules</c>, which is in git's config syntax: <c>[submodule "name"]</c> sections whose <c>path</c> and
/// <c>url</c> keys (case-insensitive) may be quoted, escaped and followed by <c>#</c> or <c>;</c> comments.
/// </summary>
internal static class GitModulesFile
{
    public static IReadOnlyList<SubmoduleEntry> Parse(string text)
    {
        var sections = new List<(string Name, Dictionary<string, string> Keys)>();
        Dictionary<string, string>? current = null;
        foreach (var raw in JoinContinuations(text))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line[0] == '[')
            {
                current = null;
                var close = line.LastIndexOf(']');
                if (close < 0) continue;
                var header = line[1..close].Trim();
                if (!header.StartsWith("submodule", StringComparison.OrdinalIgnoreCase)) continue;
                var rest = header["submodule".Length..].Trim();
                if (rest.Length < 2 || rest[0] != '"' || rest[^1] != '"') continue;
                current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                sections.Add((Unescape(rest[1..^1], stopAtComment: false), current));
                continue;
            }
            if (current is null) continue;
            var equals = line.IndexOf('=');
            if (equals < 0) continue;
            current[line[..equals].Trim()] = Unescape(line[(equals + 1)..].Trim(), stopAtComment: true);
        }
        return sections
            .Where(s => s.Keys.ContainsKey("path") && s.Keys.ContainsKey("url"))
            .Select(s => new SubmoduleEntry(s.Name, s.Keys["path"].Trim('/'), s.Keys["url"]))
            .ToList();
    }

    /// <summary>A backslash at the end of a line continues the value on the next one.</summary>
    private static IEnumerable<string> JoinContinuations(string text)
    {
        var pending = new StringBuilder();
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            if (line.EndsWith('\\') && !line.EndsWith("\\\\", StringComparison.Ordinal))
            {
                pending.Append(line, 0, line.Length - 1);
                continue;
            }
            pending.Append(line);
            yield return pending.ToString();
            pending.Clear();
        }
        if (pending.Length > 0) yield return pending.ToString();
    }

    /// <summary>Removes quotes, resolves <c>\"</c>, <c>\\</c>, <c>\t</c>, <c>\n</c>, and cuts an unquoted comment.</summary>
    private static string Unescape(string value, bool stopAtComment)
    {
        var result = new StringBuilder();
        var quoted = false;
        for (int i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && i + 1 < value.Length)
            {
                var next = value[++i];
                result.Append(next switch { 't' => '\t', 'n' => '\n', 'b' => '\b', _ => next });
            }
            else if (c == '"') quoted = !quoted;
            else if (stopAtComment && !quoted && c is '#' or ';') break;
            else result.Append(c);
        }
        return stopAtComment ? result.ToString().TrimEnd() : result.ToString();
    }

    /// <summary>
    /// A submodule URL as git resolves it: <c>./x</c> and <c>../x</c> are relative to the superproject's URL (each
    /// <c>../</c> drops one component, separated by <c>/</c> or, in <c>host:path</c> URLs, <c>:</c>); others are as written.
    /// </summary>
    public static string ResolveUrl(string url, string superprojectUrl)
    {
        if (!url.StartsWith("./", StringComparison.Ordinal) && !url.StartsWith("../", StringComparison.Ordinal)) return url;
        var baseUrl = superprojectUrl.TrimEnd('/');
        var separator = '/';
        var rest = url;
        while (true)
        {
            if (rest.StartsWith("./", StringComparison.Ordinal)) rest = rest[2..];
            else if (rest.StartsWith("../", StringComparison.Ordinal))
            {
                rest = rest[3..];
                var cut = baseUrl.LastIndexOfAny(['/', ':']);
                if (cut < 0)
                    throw new DappException($"the submodule URL {url} goes above the superproject's URL {UrlCredentials.Redact(superprojectUrl)}");
                separator = baseUrl[cut];
                baseUrl = baseUrl[..cut];
            }
            else break;
        }
        return rest.Length == 0 ? baseUrl : baseUrl + separator + rest;
    }
}
