using System.Text.RegularExpressions;

namespace Dapp.Registry.Names;

/// <summary>The REPO, tag and image-name rules dapp applied (docs/image-naming.md).</summary>
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

    /// <summary>Registries refuse repository names (the path after the host) longer than this.</summary>
    public const int MaxRepositoryLength = 255;

    public static bool IsValidRepo(string repo) =>
        repo.Length <= MaxRepositoryLength + 260 && RepoPattern().IsMatch(repo) && PortIsValid(repo) && PathLength(repo) <= MaxRepositoryLength;

    /// <summary>A port, when the host has one, is 1 to 65535.</summary>
    private static bool PortIsValid(string repo)
    {
        var slash = repo.IndexOf('/');
        var colon = slash > 0 ? repo.IndexOf(':', 0, slash) : -1;
        return colon < 0 || (int.TryParse(repo[(colon + 1)..slash], out var port) && port is > 0 and <= 65535);
    }

    private static int PathLength(string repo)
    {
        var slash = repo.IndexOf('/');
        var first = slash > 0 ? repo[..slash] : "";
        return first.Contains('.') || first.Contains(':') || first == "localhost" ? repo.Length - slash - 1 : repo.Length;
    }

    [GeneratedRegex("^" + Host + "(?::[0-9]{1,5})?$")]
    private static partial Regex RegistryHostPattern();

    /// <summary>HOST or HOST:PORT, as --insecure-registry takes it.</summary>
    public static bool IsValidRegistryHost(string host) =>
        RegistryHostPattern().IsMatch(host) && PortIsValid(host + "/x");

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
            throw new DappException($"Invalid REPO '{(repo.Length <= 100 ? repo : repo[..100] + "…")}': " + (
                !RepoPattern().IsMatch(repo) ? "expected [HOST[:PORT]/]NAME[/NAME...] in lowercase letters, digits and separators (for example 127.0.0.1:5000/taxi/backend)"
                : !PortIsValid(repo) ? "the port must be a number from 1 to 65535"
                : $"the repository name is longer than the {MaxRepositoryLength} characters registries accept"));
    }

    public static void EnsureValidTag(string tag, string option)
    {
        if (!IsValidTag(tag))
            throw new DappException($"Invalid tag '{tag}' given by {option}: a tag is 1 to 128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'");
    }
}
