using System.Text.RegularExpressions;

namespace Dapp.Registry.Names;

/// <summary>The REPO, tag and image-name rules dapp applied (reference §2).</summary>
public static partial class DockerNames
{
    private const string Label = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?";
    private const string Host = Label + @"(?:\." + Label + ")*";
    private const string Component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";

    [GeneratedRegex("^(?:" + Host + "(?::[0-9]+)?/)?" + Component + "(?:/" + Component + ")*$")]
    private static partial Regex RepoPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^" + Component + "$")]
    private static partial Regex ComponentPattern();

    public static bool IsValidRepo(string repo) => RepoPattern().IsMatch(repo);

    public static bool IsValidTag(string tag) => TagPattern().IsMatch(tag);

    /// <summary>A single path component, as a dimg name must be to appear in <c>REPO/&lt;dimg&gt;</c>.</summary>
    public static bool IsValidPathComponent(string value) => ComponentPattern().IsMatch(value);

    public static bool IsValidImageName(string name)
    {
        var slash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        if (colon > slash)
            return IsValidRepo(name[..colon]) && IsValidTag(name[(colon + 1)..]);
        return IsValidRepo(name);
    }

    public static void EnsureValidRepo(string repo)
    {
        if (!IsValidRepo(repo))
            throw new DappException($"Invalid REPO '{repo}': expected [HOST[:PORT]/]NAME[/NAME...] in lowercase letters, digits and separators (for example 127.0.0.1:5000/taxi/backend)");
    }

    public static void EnsureValidTag(string tag, string option)
    {
        if (!IsValidTag(tag))
            throw new DappException($"Invalid tag '{tag}' given by {option}: a tag is 1 to 128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'");
    }
}
