namespace Dapp.Registry.Names;

/// <summary>A repository in a registry: <c>127.0.0.1:5000/taxi/backend</c>, <c>docker.io/library/alpine</c>.</summary>
public sealed record RepositoryName(string Registry, string Repository)
{
    public const string DockerHub = "docker.io";

    private readonly string? _written;

    /// <summary>
    /// The name as the user wrote it (<c>alpine</c>, not <c>docker.io/library/alpine</c>): what names dapp makes from
    /// a REPO argument (<c>REPO/DIMG:TAG</c>) and shows start with. Not part of the name's identity.
    /// </summary>
    public string Written { get => _written ?? ToString(); init => _written = value; }

    /// <summary>A REPO argument of a command: checked once (the error names REPO and what is wrong), parsed once.</summary>
    public static RepositoryName FromArgument(string repo)
    {
        DockerNames.EnsureValidRepo(repo);
        return Parse(repo) with { Written = repo };
    }

    public bool Equals(RepositoryName? other) => other is not null && Registry == other.Registry && Repository == other.Repository;

    public override int GetHashCode() => HashCode.Combine(Registry, Repository);

    /// <summary>The host that serves the API (Docker Hub's differs from its name).</summary>
    public string ApiHost => Registry == DockerHub ? "registry-1.docker.io" : Registry;

    /// <summary>Parses a repository name, applying Docker Hub's defaults (<c>alpine</c> is <c>docker.io/library/alpine</c>).</summary>
    public static RepositoryName Parse(string name)
    {
        if (!DockerNames.IsValidRepo(name) && !IsValidWithUppercaseHost(name))
            throw new DappException($"Invalid repository name '{name}': expected [HOST[:PORT]/]NAME[/NAME...] in lowercase letters, digits and separators");
        var slash = name.IndexOf('/');
        if (slash > 0 && LooksLikeHost(name[..slash]))
            return new RepositoryName(Normalize(name[..slash]), name[(slash + 1)..]);
        return new RepositoryName(DockerHub, slash < 0 ? "library/" + name : name);
    }

    /// <summary>Docker's rule: the first component is a host when it has a dot or a port, or is <c>localhost</c>.</summary>
    private static bool LooksLikeHost(string component) =>
        component.Contains('.') || component.Contains(':') || component == "localhost";

    /// <summary>A registry as users write it in settings (<c>https://registry.example.com/</c>): its host[:port], as <see cref="Registry"/> has it.</summary>
    public static string NormalizeRegistry(string value)
    {
        var host = value.Trim();
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0) host = host[(scheme + 3)..];
        var slash = host.IndexOf('/');
        return Normalize(slash >= 0 ? host[..slash] : host);
    }

    private static string Normalize(string host) => host is "index.docker.io" or "registry-1.docker.io" ? DockerHub : host;

    private static bool IsValidWithUppercaseHost(string name)
    {
        var slash = name.IndexOf('/');
        return slash > 0 && LooksLikeHost(name[..slash]) && DockerNames.IsValidRepo(name[..slash].ToLowerInvariant() + name[slash..]);
    }

    public override string ToString() => $"{Registry}/{Repository}";
}
