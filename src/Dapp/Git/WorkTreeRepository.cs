using LibGit2Sharp;

namespace Dapp.Git;

/// <summary>What dapp reads from the git repository that contains the work dir.</summary>
public sealed class WorkTreeRepository
{
    private WorkTreeRepository(string root, string? originUrl, string? branch, string? headCommit)
    {
        Root = root;
        OriginUrl = originUrl;
        Branch = branch;
        HeadCommit = headCommit;
    }

    public string Root { get; }
    public string? OriginUrl { get; }

    /// <summary>The current branch; null on a detached HEAD.</summary>
    public string? Branch { get; }

    public string? HeadCommit { get; }

    /// <summary>The repository containing <paramref name="dir"/>, or null when it is not in one.</summary>
    public static WorkTreeRepository? Discover(string dir)
    {
        if (GitDiscovery.FindRoot(dir) is not { } root) return null;
        using var repo = new Repository(root);
        var origin = repo.Network.Remotes["origin"]?.Url;
        var branch = repo.Info.IsHeadDetached || repo.Head.Tip is null && repo.Info.IsHeadUnborn ? null : repo.Head.FriendlyName;
        return new WorkTreeRepository(root.TrimEnd('/'), origin, branch, repo.Head.Tip?.Sha);
    }
}
