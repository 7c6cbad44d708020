using Dapp.Git;

namespace Dapp.Stages;

/// <summary>
/// g_a_archive: the git paths' trees. Its signature does not follow commits (the patch stages after it bring the
/// files up to date) except commits asking for a reset (<c>[dapp reset]</c>, <c>[reset dapp]</c>).
/// </summary>
internal sealed class GitArchiveStage(IReadOnlyList<GitPath> paths) : Stage
{
    public override StageName Name => StageName.GAArchive;

    public override bool IsEmpty => paths.Count == 0;

    public override void AddInputs(SignatureBuilder signature)
    {
        foreach (var path in paths)
        {
            var c = path.Config;
            signature.Add("git", [path.RepositoryName, c.Add, c.To, c.Owner ?? "", c.Group ?? "", c.Branch ?? "", c.Tag ?? "", c.Commit ?? ""], [c.Location]);
            signature.Add("includePaths", c.IncludePaths);
            signature.Add("excludePaths", c.ExcludePaths);
            signature.Add("resetCommits", path.ResetCommits());
        }
    }

    public override StageWork Work => StageWork.None with { Git = paths.Select(p => new GitWork(p, IsArchive: true)).ToList() };
}
