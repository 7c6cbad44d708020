using LibGit2Sharp;

namespace Dapp.Git;

/// <summary>
/// A repository at a commit whose tree sits at <paramref name="Prefix"/> of the git path's repository ("" for that
/// repository itself, <c>path/of/submodule/</c> for a submodule). <paramref name="Url"/> is what the relative URLs of its
/// own submodules resolve against.
/// </summary>
internal sealed record RepositoryAt(Repository Repository, Commit Commit, string Prefix, string Url)
{
    public IReadOnlyList<SubmoduleEntry> Submodules() =>
        Commit.Tree[".gitmodules"]?.Target is Blob blob ? GitModulesFile.Parse(blob.GetContentText()) : [];
}

/// <summary>
/// Opens the repositories of submodules at the commits their superproject records: from the superproject's own
/// <c>.git/modules/NAME</c> when it has the commit (the project's repository after <c>git submodule update</c>), else
/// fetched from the submodule's URL (resolved as git resolves it) into dapp's git cache. A commit found in neither is
/// an error naming the submodule, never a silent skip.
/// </summary>
internal sealed class Submodules(Func<string, Repository> fetchRemote) : IDisposable
{
    private readonly Dictionary<string, Repository?> _moduleDirs = new(StringComparer.Ordinal);

    /// <summary>Held by every read of the project's repositories (<see cref="GitPath"/>): libgit2's objects are for one thread at a time.</summary>
    public Lock Reads { get; } = new();

    public RepositoryAt Open(RepositoryAt superproject, string path, ObjectId commit)
    {
        var shownPath = superproject.Prefix + path;
        var entry = superproject.Submodules().FirstOrDefault(s => s.Path == path)
            ?? throw new SubmoduleException($"submodule {shownPath} (at commit {Short(commit)}) has no entry in .gitmodules at commit {Short(superproject.Commit.Id)}");
        var url = GitModulesFile.ResolveUrl(entry.Url, superproject.Url);
        if (ModuleDir(superproject.Repository, entry.Name) is { } local && local.Lookup<Commit>(commit) is { } found)
            return new RepositoryAt(local, found, shownPath + "/", url);
        Repository fetched;
        try
        {
            fetched = fetchRemote(url);
        }
        catch (DappException e)
        {
            throw new SubmoduleException($"submodule {shownPath} ({UrlCredentials.Redact(url)}) could not be fetched: {e.Message}", e);
        }
        var atCommit = fetched.Lookup<Commit>(commit)
            ?? throw new SubmoduleException($"submodule {shownPath} ({UrlCredentials.Redact(url)}): commit {Short(commit)}, which the superproject records at "
                + $"{Short(superproject.Commit.Id)}, is not in the submodule's repository (not pushed, or force-pushed away?)");
        return new RepositoryAt(fetched, atCommit, shownPath + "/", url);
    }

    /// <summary>Where git keeps a checked-out submodule's repository; null for bare (fetched) superprojects or an uninitialised submodule.</summary>
    private Repository? ModuleDir(Repository superproject, string name)
    {
        if (superproject.Info.IsBare) return null;
        var dir = Path.Combine(superproject.Info.Path, "modules", name);
        if (_moduleDirs.TryGetValue(dir, out var open)) return open;
        return _moduleDirs[dir] = Directory.Exists(Path.Combine(dir, "objects")) ? new Repository(dir) : null;
    }

    private static string Short(ObjectId id) => id.Sha[..12];

    public void Dispose()
    {
        foreach (var repository in _moduleDirs.Values) repository?.Dispose();
        _moduleDirs.Clear();
    }
}

/// <summary>A submodule that cannot be read: the git path it was met in adds where.</summary>
internal sealed class SubmoduleException : DappException
{
    public SubmoduleException(string message) : base(message) { }
    public SubmoduleException(string message, Exception inner) : base(message, inner) { }
}
