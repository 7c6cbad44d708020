namespace Dapp.Config;

/// <summary>The <c>docker</c> section: image config directives applied by the docker_instructions stage.</summary>
public sealed record DockerConfig(
    IReadOnlyList<string> Volumes,
    IReadOnlyList<string> Expose,
    IReadOnlyList<string>? Cmd,
    IReadOnlyList<string>? Entrypoint,
    IReadOnlyList<KeyValuePair<string, string>> Env,
    IReadOnlyList<KeyValuePair<string, string>> Labels,
    string? Workdir,
    string? User,
    IReadOnlyList<string> OnBuild)
{
    /// <summary>Where each directive (CMD, ENV, …) is written in the dappfile.</summary>
    public IReadOnlyDictionary<string, SourceLocation> Locations { get; init; } = new Dictionary<string, SourceLocation>();

    public static DockerConfig Empty { get; } = new([], [], null, null, [], [], null, null, []);

    public bool IsEmpty => Volumes.Count == 0 && Expose.Count == 0 && Cmd is null && Entrypoint is null && Env.Count == 0
        && Labels.Count == 0 && Workdir is null && User is null && OnBuild.Count == 0;
}
