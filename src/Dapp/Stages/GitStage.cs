using Dapp.Config;

namespace Dapp.Stages;

/// <summary>
/// The g_a_* stages. They are empty when the image has no git paths; building git stages is the git issue's
/// work, so until then a conveyor with git paths is refused by <see cref="ConveyorFactory"/>.
/// </summary>
public sealed class GitStage(StageName name, IReadOnlyList<GitPathConfig> gitPaths) : Stage
{
    public override StageName Name => name;

    public override bool IsEmpty => gitPaths.Count == 0;

    public override void AddInputs(SignatureBuilder signature) =>
        throw new InvalidOperationException("git stages with git paths are not implemented");
}
