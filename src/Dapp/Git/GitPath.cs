using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Dapp.Config;
using LibGit2Sharp;

namespace Dapp.Git;

/// <summary>What a patch changes under a git path's <c>to</c>: the files and directories its archive writes, and the paths to delete.</summary>
public sealed record GitPatch(IReadOnlyList<string> Written, IReadOnlyList<string> Deleted);

/// <summary>A file of a git path's repository by its path there (a submodule's files under the submodule's path).</summary>
internal sealed record TreeFile(string Path, Mode Mode, Blob Blob, Repository Repository);

/// <summary>One file's part in a patch: the old file removed, the new one written, or both.</summary>
internal sealed record FileChange(TreeFile? Removed, TreeFile? Written);

/// <summary>
/// A git path of the dappfile resolved to a repository and a current commit. Paths inside the repository are
/// selected by <c>add</c>, <c>includePaths</c> and <c>excludePaths</c> and placed under <c>to</c>; submodules in the
/// selection contribute their files at the commits the repository records.
/// </summary>
public sealed class GitPath
{
    private readonly RepositoryAt _root;
    private readonly Submodules _submodules;
    private readonly string _add;
    private readonly PathFilter _filter;
    private readonly Lazy<IReadOnlyList<TreeFile>> _currentFiles;
    private readonly Lazy<IReadOnlyList<string>> _resetCommits;

    internal GitPath(GitPathConfig config, RepositoryAt root, string repositoryName, Submodules submodules)
    {
        Config = config;
        _root = root;
        _submodules = submodules;
        Current = root.Commit.Sha;
        RepositoryName = repositoryName;
        _add = config.Add.Trim('/');
        _filter = new PathFilter(config.IncludePaths, config.ExcludePaths);
        // Walked once per command, however many stages read them.
        _currentFiles = new(() => Described(() => Files(root).ToList()));
        _resetCommits = new(() => root.Repository.Commits.QueryBy(new CommitFilter { IncludeReachableFrom = root.Commit })
            .Where(c => c.Message.Contains("[dapp reset]", StringComparison.Ordinal) || c.Message.Contains("[reset dapp]", StringComparison.Ordinal))
            .Select(c => c.Sha)
            .ToList());
        Id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{repositoryName}\n{config.Add}\n{config.To}")))[..12];
    }

    public GitPathConfig Config { get; }
    public string RepositoryName { get; }
    public string Current { get; }

    /// <summary>Identifies the git path in image labels.</summary>
    public string Id { get; }

    /// <summary>The label in which a stage image records the commit this git path was applied at.</summary>
    public string CommitLabel => $"dapp-git-{Id}-commit";

    /// <summary>Whether <c>add</c> names something in the current commit, or lies in one of its submodules (else the git path adds nothing).</summary>
    public bool AddExists => Read(() => _add.Length == 0 || _root.Commit.Tree[_add] is not null
        || Prefixes(_add).Any(p => _root.Commit.Tree[p]?.TargetType == TreeEntryTargetType.GitLink));

    public bool HasCommit(string sha) => Read(() => _root.Repository.Lookup<Commit>(sha) is not null);

    /// <summary>
    /// libgit2's objects are for one thread at a time, and chains of a build read the project's repositories at once:
    /// every read of them holds the project's git lock (the one its submodules share).
    /// </summary>
    private T Read<T>(Func<T> read)
    {
        lock (_submodules.Reads) return read();
    }

    /// <summary>
    /// Why an image with these labels cannot be patched from: it records a commit of this git path that no longer
    /// exists in the repository (rebased or force-pushed); null when it records none, or one that exists.
    /// </summary>
    public string? VanishedCommit(IReadOnlyDictionary<string, string> labels) =>
        labels.TryGetValue(CommitLabel, out var commit) && !HasCommit(commit)
            ? $"was built at commit {commit[..Math.Min(12, commit.Length)]} of {(RepositoryName == "own" ? "the project's repository" : RepositoryName)}, which no longer exists there (rebased or force-pushed?)"
            : null;

    /// <summary>Commits reachable from the current one whose message asks to reset the archive.</summary>
    public IReadOnlyList<string> ResetCommits() => Read(() => _resetCommits.Value);

    /// <summary>A checksum of the selected files matching the globs (path, mode, content); empty when nothing matches.</summary>
    public string DependenciesChecksum(IReadOnlyList<string> globs)
    {
        if (globs.Count == 0) return "";
        var matcher = new PathFilter(globs, []);
        var lines = Read(() => _currentFiles.Value).Select(f => (File: f, Relative: InScope(f.Path)!)).Where(f => matcher.IsSelected(f.Relative))
            .Select(f => $"{f.Relative}\0{(int)f.File.Mode}\0{f.File.Blob.Sha}")
            .Order(StringComparer.Ordinal).ToList();
        return lines.Count == 0 ? "" : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", lines))));
    }

    /// <summary>How many bytes of selected content changed between a commit and the current one.</summary>
    public long ChangedBytes(string fromSha) => Read(() =>
    {
        long total = 0;
        foreach (var change in Changes(fromSha))
        {
            if (change.Written is { } written && InScope(written.Path) is not null) total += written.Blob.Size;
            else if (change.Removed is { } removed && InScope(removed.Path) is not null) total += removed.Blob.Size;
        }
        return total;
    });

    /// <summary>
    /// The selected files (their repository paths) written or deleted between a commit and the current one, sorted; with
    /// <paramref name="globs"/>, only those they match (a stage's stageDependencies, relative to <c>add</c>).
    /// </summary>
    public IReadOnlyList<string> ChangedPaths(string fromSha, IReadOnlyList<string>? globs = null) => Read(() =>
    {
        var matcher = globs is null ? null : new PathFilter(globs, []);
        return Changes(fromSha).SelectMany(c => new[] { c.Removed, c.Written }).OfType<TreeFile>()
            .Where(f => InScope(f.Path) is { } relative && (matcher is null || matcher.IsSelected(relative)))
            .Select(f => f.Path).Distinct().Order(StringComparer.Ordinal).ToList();
    });

    /// <summary>The tree at the current commit, selected and placed under <c>to</c>, as a tar.</summary>
    public void WriteArchive(Stream output, CancellationToken ct)
    {
        using var writer = new TarWriter(output, TarEntryFormat.Gnu, leaveOpen: true);
        PlanArchive(ct).WriteTo(writer, ct);
    }

    /// <summary>The archive's entries, planned (their sizes read from the objects' headers): <see cref="GitTar.Size"/> is known before any is written.</summary>
    public GitTar PlanArchive(CancellationToken ct) => Read(() =>
    {
        var plan = new List<PlannedEntry>();
        var written = new HashSet<string>();
        foreach (var file in _currentFiles.Value)
            PlanEntry(plan, file, Target(InScope(file.Path)!), written, ct);
        return new GitTar(plan, _root.Commit.Committer.When, _submodules.Reads);
    });

    /// <summary>The change from <paramref name="fromSha"/> to the current commit: a tar of what to write and the paths to delete.</summary>
    public GitPatch WritePatch(string fromSha, Stream output, CancellationToken ct)
    {
        var (tar, patch) = Read(() =>
        {
            var plan = new List<PlannedEntry>();
            var written = new HashSet<string>();
            var deleted = new List<string>();
            foreach (var change in Changes(fromSha))
            {
                if (change.Removed is { } removed && InScope(removed.Path) is { } oldRelative)
                    deleted.Add(Target(oldRelative));
                if (change.Written is { } file && InScope(file.Path) is { } relative)
                    PlanEntry(plan, file, Target(relative), written, ct);
            }
            // A path written again (a type change, a re-added file) or that became a directory is not deleted.
            var kept = deleted.Where(d => !written.Contains(d) && !written.Contains(d + "/")).Distinct().ToList();
            return (new GitTar(plan, _root.Commit.Committer.When, _submodules.Reads),
                new GitPatch(written.Select(w => "/" + w.TrimEnd('/')).ToList(), kept.Select(d => "/" + d).ToList()));
        });
        using var writer = new TarWriter(output, TarEntryFormat.Gnu, leaveOpen: true);
        tar.WriteTo(writer, ct);
        return patch;
    }

    private List<FileChange> Changes(string fromSha)
    {
        var from = _root.Repository.Lookup<Commit>(fromSha) ?? throw new DappException($"commit {fromSha} is not in the repository");
        return Described(() => Changes(_root with { Commit = from }, _root).ToList());
    }

    /// <summary>
    /// The files changed between two commits of one repository. A submodule moved from one commit to another
    /// contributes the changes between them; one added, removed or turned into a file (or back) all its files.
    /// </summary>
    private IEnumerable<FileChange> Changes(RepositoryAt from, RepositoryAt to)
    {
        foreach (var change in to.Repository.Diff.Compare<TreeChanges>(from.Commit.Tree, to.Commit.Tree))
        {
            var oldLink = change.OldExists && change.OldMode == Mode.GitLink;
            var newLink = change.Exists && change.Mode == Mode.GitLink;
            if (oldLink && newLink && change.Status != ChangeKind.Renamed)
            {
                if (!MayHaveSelected(to.Prefix + change.Path)) continue;
                var after = _submodules.Open(to, change.Path, change.Oid);
                var before = after.Repository.Lookup<Commit>(change.OldOid) is { } old
                    ? after with { Commit = old }
                    : _submodules.Open(from, change.OldPath, change.OldOid);
                var changes = ReferenceEquals(before.Repository, after.Repository)
                    ? Changes(before, after)
                    : Files(before).Select(f => new FileChange(f, null)).Concat(Files(after).Select(f => new FileChange(null, f)));
                foreach (var inner in changes) yield return inner;
                continue;
            }
            // Removed: a deleted or renamed path, and the side of a type change that was or becomes a submodule.
            if (change.OldExists && (change.Status is ChangeKind.Deleted or ChangeKind.Renamed || oldLink != newLink && change.Exists))
            {
                var removed = oldLink ? SubmoduleFiles(from, change.OldPath, change.OldOid)
                    : [new TreeFile(from.Prefix + change.OldPath, change.OldMode, from.Repository.Lookup<Blob>(change.OldOid), from.Repository)];
                foreach (var file in removed) yield return new FileChange(file, null);
            }
            if (change.Exists && change.Status is not ChangeKind.Deleted)
            {
                var written = newLink ? SubmoduleFiles(to, change.Path, change.Oid)
                    : [new TreeFile(to.Prefix + change.Path, change.Mode, to.Repository.Lookup<Blob>(change.Oid), to.Repository)];
                foreach (var file in written) yield return new FileChange(null, file);
            }
        }
    }

    private IEnumerable<TreeFile> Files(RepositoryAt at) => Files(at, at.Commit.Tree);

    /// <summary>The selected files of the submodule at <paramref name="path"/> of a repository (none, and nothing fetched, when the selection leaves it out).</summary>
    private IEnumerable<TreeFile> SubmoduleFiles(RepositoryAt superproject, string path, ObjectId commit) =>
        MayHaveSelected(superproject.Prefix + path) ? Files(_submodules.Open(superproject, path, commit)) : [];

    /// <summary>The selected files of a tree, submodules' files included.</summary>
    private IEnumerable<TreeFile> Files(RepositoryAt at, Tree tree)
    {
        foreach (var entry in tree)
        {
            var path = at.Prefix + entry.Path;
            switch (entry.TargetType)
            {
                case TreeEntryTargetType.Tree:
                    foreach (var file in Files(at, (Tree)entry.Target)) yield return file;
                    break;
                case TreeEntryTargetType.Blob when InScope(path) is not null:
                    yield return new TreeFile(path, entry.Mode, (Blob)entry.Target, at.Repository);
                    break;
                case TreeEntryTargetType.GitLink:
                    foreach (var file in SubmoduleFiles(at, entry.Path, entry.Target.Id)) yield return file;
                    break;
            }
        }
    }

    /// <summary>Whether a directory (a submodule's) may hold selected files: a submodule that cannot is never fetched.</summary>
    private bool MayHaveSelected(string path)
    {
        if (_add.Length == 0) return _filter.MayContainSelected(path);
        if (path == _add || _add.StartsWith(path + "/", StringComparison.Ordinal)) return true;
        return path.StartsWith(_add + "/", StringComparison.Ordinal) && _filter.MayContainSelected(path[(_add.Length + 1)..]);
    }

    /// <summary>A submodule's error names the git path it was met in.</summary>
    private T Described<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (SubmoduleException e)
        {
            throw new DappException($"git path ({Config.Location}) to {Config.To}: {e.Message}", e);
        }
    }

    private static IEnumerable<string> Prefixes(string path)
    {
        for (int i = path.IndexOf('/'); i >= 0; i = path.IndexOf('/', i + 1)) yield return path[..i];
    }

    /// <summary>The path relative to <c>add</c> when <c>add</c>, includePaths and excludePaths select it; else null.</summary>
    private string? InScope(string repositoryPath)
    {
        string relative;
        if (_add.Length == 0) relative = repositoryPath;
        else if (repositoryPath == _add) relative = "";
        else if (repositoryPath.StartsWith(_add + "/", StringComparison.Ordinal)) relative = repositoryPath[(_add.Length + 1)..];
        else return null;
        return relative.Length == 0 || _filter.IsSelected(relative) ? relative : null;
    }

    private string Target(string relative)
    {
        var to = Config.To.Trim('/');
        return relative.Length == 0 ? to : to.Length == 0 ? relative : $"{to}/{relative}";
    }

    private void PlanEntry(List<PlannedEntry> plan, TreeFile file, string target, HashSet<string> written, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (written.Contains(target)) return;
        // An image layer reads such a name as the deletion of the file without the prefix: the file would vanish, or
        // delete another, whether the stage is loaded as a layer or committed from a container.
        if (target.Contains(".wh.", StringComparison.Ordinal) && target.Split('/').Any(name => name.StartsWith(".wh.", StringComparison.Ordinal)))
            throw new DappException($"git path ({Config.Location}) to {Config.To}: the file {file.Path} cannot be put into an image: " +
                "image layers reserve names starting with .wh. for deletions; rename it or leave it out with excludePaths");
        // Files come directory by directory: once a file's directory is in, so are the ones above it.
        var slash = target.LastIndexOf('/');
        if (slash < 0 || !written.Contains(target[..(slash + 1)]))
            foreach (var dir in ParentsUnderTo(target))
                if (written.Add(dir + "/"))
                    plan.Add(new PlannedEntry(dir + "/", TarEntryType.Directory, (UnixFileMode)0b111_101_101, null, 0, null));
        written.Add(target);
        plan.Add(file.Mode == Mode.SymbolicLink
            ? new PlannedEntry(target, TarEntryType.SymbolicLink, (UnixFileMode)0b111_111_111, null, 0, file.Blob.GetContentText())
            : new PlannedEntry(target, TarEntryType.RegularFile, file.Mode == Mode.ExecutableFile ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100,
                file, file.Repository.ObjectDatabase.RetrieveObjectMetadata(file.Blob.Id).Size, null));
    }

    /// <summary>The directories between <c>to</c> (included) and the target, outermost first.</summary>
    private IEnumerable<string> ParentsUnderTo(string target)
    {
        var to = Config.To.Trim('/');
        var parts = target.Split('/');
        var start = to.Length == 0 ? 1 : to.Split('/').Length;
        for (int i = start; i < parts.Length; i++)
            yield return string.Join('/', parts[..i]);
    }
}
