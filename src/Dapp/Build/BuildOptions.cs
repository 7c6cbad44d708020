namespace Dapp.Build;

public sealed record BuildOptions
{
    /// <summary>The network mode of build containers; null for the engine's default (as dapp did).</summary>
    public string? Network { get; init; }

    /// <summary>How long to wait for another build of the same stage.</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Report what would be built, build nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>dapp dimg plan: a dry run that says a stage REPO has is there (<c>[IN REPO]</c>) rather than what a build would pull.</summary>
    public bool Plan { get; init; }

    /// <summary>Where build_dir mounts live; default <c>~/.dapp/builds/&lt;project&gt;</c>.</summary>
    public string? BuildDir { get; init; }

    /// <summary>How many chains (a dimg's or an artifact's stages) build at once; 1 builds them one after another.</summary>
    public int Jobs { get; init; } = DefaultJobs;

    public const int DefaultJobs = 4;

    /// <summary>Interactive shells in stages this build builds (dapp's --introspect-* options).</summary>
    public Introspection Introspect { get; init; } = Introspection.None;
}
