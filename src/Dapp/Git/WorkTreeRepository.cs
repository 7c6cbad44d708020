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

    /// <summary>
    /// The branches (local, and remote-tracking ones without their remote's name) and tags the repository has now, and
    /// which of some commits it still has: what <c>dimg cleanup repo</c> judges dimg tags by.
    /// </summary>
    public GitRefs ReadRefs(IEnumerable<string> commits)
    {
        using var repo = new Repository(Root);
        var branches = new HashSet<string>(StringComparer.Ordinal);
        foreach (var branch in repo.Branches)
        {
            if (!branch.IsRemote) branches.Add(branch.FriendlyName);
            else if (branch.RemoteName is { } remote && branch.FriendlyName.StartsWith(remote + "/", StringComparison.Ordinal)
                && branch.FriendlyName[(remote.Length + 1)..] is var name && name != "HEAD")
                branches.Add(name);
        }
        var tags = repo.Tags.Select(t => t.FriendlyName).ToHashSet(StringComparer.Ordinal);
        // Only full hex names: Lookup would also resolve revisions such as HEAD or main~2.
        var existing = commits.Where(c => c.Length is 40 or 64 && c.All(char.IsAsciiHexDigitLower) && repo.Lookup<Commit>(c) is not null)
            .ToHashSet(StringComparer.Ordinal);
        return new GitRefs(branches, tags, existing);
    }
}

/// <summary>A repository's branches and tags by name, and the asked-about commits it has.</summary>
public sealed record GitRefs(IReadOnlySet<string> Branches, IReadOnlySet<string> Tags, IReadOnlySet<string> ExistingCommits);
