using Dapp.Stages;

namespace Dapp.Build;

/// <summary>
/// dapp's introspection options: an interactive shell, through the docker CLI, in a container of a stage this build
/// builds — its image after it (<c>--introspect-stage</c>), the previous stage's before it (<c>--introspect-before</c>),
/// for dimgs or for artifacts (<c>--introspect-artifact-stage</c>, <c>--introspect-artifact-before</c>), or the state a
/// failed stage left (<c>--introspect-error</c>) or started from (<c>--introspect-before-error</c>). The stage's mounts
/// are there; the shell is bash when the image has it, else sh.
/// </summary>
public sealed record Introspection
{
    public static Introspection None { get; } = new();

    public StageName? DimgStage { get; init; }
    public StageName? DimgBefore { get; init; }
    public StageName? ArtifactStage { get; init; }
    public StageName? ArtifactBefore { get; init; }
    public bool OnError { get; init; }
    public bool BeforeError { get; init; }

    public bool Any => this != None;

    public bool After(bool artifact, StageName stage) => (artifact ? ArtifactStage : DimgStage) == stage;

    public bool Before(bool artifact, StageName stage) => (artifact ? ArtifactBefore : DimgBefore) == stage;

    /// <summary>The docker run arguments of the shell of a stage: as root in /, like build commands, with the stage's mounts.</summary>
    public static IReadOnlyList<string> ShellArgs(string image, IEnumerable<string> binds) =>
        ["run", "-ti", "--rm", "--user", "0:0", "--workdir", "/", .. binds.SelectMany(b => new[] { "--volume", b }), .. Shell(image)];

    /// <summary>An interactive shell in the image, removed afterwards: bash when the image has it, else sh (dimg run's default too).</summary>
    public static IReadOnlyList<string> Shell(string image) =>
        ["--entrypoint", "/bin/sh", image, "-c", "if [ -x /bin/bash ]; then exec /bin/bash; fi; exec /bin/sh"];
}
