namespace Dapp.Config;

public enum ImageKind
{
    Dimg,
    Artifact,
}

/// <summary>One dimg or artifact of the dappfile.</summary>
public sealed record ImageConfig
{
    /// <summary>The name; null for the nameless dimg.</summary>
    public required string? Name { get; init; }
    public required ImageKind Kind { get; init; }
    public required SourceLocation Location { get; init; }

    public string? From { get; init; }
    public string? FromCacheVersion { get; init; }
    public string? FromDimg { get; init; }
    public string? FromDimgArtifact { get; init; }
    public required SourceLocation FromLocation { get; init; }

    public ShellConfig Shell { get; init; } = ShellConfig.Empty;

    /// <summary>The ansible tasks; null when the image uses shell (the two exclude each other).</summary>
    public AnsibleConfig? Ansible { get; init; }

    /// <summary>What the user stages run: the ansible tasks, else the shell commands.</summary>
    public StageInstructions Instructions => Ansible is not null ? Ansible : Shell;

    public DockerConfig Docker { get; init; } = DockerConfig.Empty;
    public IReadOnlyList<GitPathConfig> Git { get; init; } = [];
    public IReadOnlyList<MountConfig> Mounts { get; init; } = [];
    public IReadOnlyList<ImportConfig> Imports { get; init; } = [];

    public bool IsArtifact => Kind == ImageKind.Artifact;

    /// <summary>How output and errors name the image: <c>backend</c>, <c>artifact hello</c>, or <c>(nameless)</c>.</summary>
    public string DisplayName => Kind == ImageKind.Artifact ? $"artifact {Name}" : Name ?? "(nameless)";
}
