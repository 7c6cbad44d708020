using Dapp.Git;

namespace Dapp.Stages;

/// <summary>g_a_latest_patch: the change since the commits the previous stage recorded; empty when there is none.</summary>
internal sealed class GitLatestPatchStage(IReadOnlyList<GitPath> paths, IReadOnlyDictionary<GitPath, string?> recorded) : Stage
{
    public override StageName Name => StageName.GALatestPatch;

    /// <summary>Empty when every git path is at the recorded commit, or nothing is recorded (the previous stage will be built at the current commits).</summary>
    public override bool IsEmpty => paths.All(p => recorded.GetValueOrDefault(p) is not { } from || from == p.Current);

    /// <summary>The commit of each git path the previous stage recorded (null: none, or one that no longer exists): what the patch starts from.</summary>
    public IReadOnlyDictionary<GitPath, string?> Recorded => recorded;

    public override void AddInputs(SignatureBuilder signature)
    {
        foreach (var path in paths) signature.Add("commit", [path.Id, path.Current]);
    }

    public override StageWork Work => StageWork.None with { Git = paths.Select(p => new GitWork(p, IsArchive: false)).ToList() };
}
