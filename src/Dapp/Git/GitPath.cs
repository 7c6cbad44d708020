using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Dapp.Config;
using LibGit2Sharp;

namespace Dapp.Git;

/// <summary>What a patch changes under a git path's <c>to</c>: the files and directories its archive writes, and the paths to delete.</summary>
public sealed record GitPatch(IReadOnlyList<string> Written, IReadOnlyList<string> Deleted);

/// <summary>
/// A git path of the dappfile resolved to a repository and a current commit. Paths inside the repository are
/// selected by <c>add</c>, <c>includePaths</c> and <c>excludePaths</c> and placed under <c>to</c>.
/// </summary>
public sealed class GitPath
{
    private readonly Repository _repository;
    private readonly string _add;
    private readonly PathFilter _filter;
    private readonly Commit _current;
    private readonly Lazy<IReadOnlyList<(string Relative, TreeEntry Entry)>> _currentFiles;
    private readonly Lazy<IReadOnlyList<string>> _resetCommits;

    internal GitPath(GitPathConfig config, Repository repository, Commit current, string repositoryName)
    {
        Config = config;
        _repository = repository;
        Current = current.Sha;
        RepositoryName = repositoryName;
        _add = config.Add.Trim('/');
        _filter = new PathFilter(config.IncludePaths, config.ExcludePaths);
        _current = current;
        // Walked once per command, however many stages read them.
        _currentFiles = new(() => Files(current.Tree).ToList());
        _resetCommits = new(() => _repository.Commits.QueryBy(new CommitFilter { IncludeReachableFrom = current })
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

    /// <summary>Whether <c>add</c> names something in the current commit (else the git path adds nothing).</summary>
    public bool AddExists => _add.Length == 0 || _current.Tree[_add] is not null;

    public bool HasCommit(string sha) => _repository.Lookup<Commit>(sha) is not null;

    /// <summary>
    /// Why an image with these labels cannot be patched from: it records a commit of this git path that no longer
    /// exists in the repository (rebased or force-pushed); null when it records none, or one that exists.
    /// </summary>
    public string? VanishedCommit(IReadOnlyDictionary<string, string> labels) =>
        labels.TryGetValue(CommitLabel, out var commit) && !HasCommit(commit)
            ? $"was built at commit {commit[..Math.Min(12, commit.Length)]} of {(RepositoryName == "own" ? "the project's repository" : RepositoryName)}, which no longer exists there (rebased or force-pushed?)"
            : null;

    /// <summary>Commits reachable from the current one whose message asks to reset the archive.</summary>
    public IReadOnlyList<string> ResetCommits() => _resetCommits.Value;

    /// <summary>A checksum of the selected files matching the globs (path, mode, content); empty when nothing matches.</summary>
    public string DependenciesChecksum(IReadOnlyList<string> globs)
    {
        if (globs.Count == 0) return "";
        var matcher = new PathFilter(globs, []);
        var lines = _currentFiles.Value.Where(f => matcher.IsSelected(f.Relative))
            .Select(f => $"{f.Relative}\0{(int)f.Entry.Mode}\0{f.Entry.Target.Sha}")
            .Order(StringComparer.Ordinal).ToList();
        return lines.Count == 0 ? "" : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", lines))));
    }

    /// <summary>How many bytes of selected content changed between a commit and the current one.</summary>
    public long ChangedBytes(string fromSha)
    {
        long total = 0;
        foreach (var change in Changes(fromSha))
        {
            if (change.Exists && InScope(change.Path) is not null) total += BlobSize(change.Oid);
            if (change.OldExists && InScope(change.OldPath) is not null && change.Status is ChangeKind.Deleted) total += BlobSize(change.OldOid);
        }
        return total;
    }

    /// <summary>The tree at the current commit, selected and placed under <c>to</c>, as a tar.</summary>
    public async Task WriteArchiveAsync(Stream output, CancellationToken ct)
    {
        await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var written = new HashSet<string>();
        var time = _current.Committer.When;
        foreach (var file in _currentFiles.Value)
            await WriteEntryAsync(writer, file.Entry, Target(file.Relative), written, time, ct);
    }

    /// <summary>The change from <paramref name="fromSha"/> to the current commit: a tar of what to write and the paths to delete.</summary>
    public async Task<GitPatch> WritePatchAsync(string fromSha, Stream output, CancellationToken ct)
    {
        await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        var written = new HashSet<string>();
        var deleted = new List<string>();
        var time = _current.Committer.When;
        foreach (var change in Changes(fromSha))
        {
            if (change.OldExists && change.Status is ChangeKind.Deleted or ChangeKind.Renamed && InScope(change.OldPath) is { } oldRelative)
                deleted.Add(Target(oldRelative));
            if (change.Exists && change.Status is not ChangeKind.Deleted && InScope(change.Path) is { } relative
                && _current.Tree[change.Path] is { } entry)
            {
                if (entry.TargetType == TreeEntryTargetType.GitLink) throw Submodule(change.Path, relative, entry.Target.Sha);
                await WriteEntryAsync(writer, entry, Target(relative), written, time, ct);
            }
        }
        // A path written again (a type change, a re-added file) or that became a directory is not deleted.
        var kept = deleted.Where(d => !written.Contains(d) && !written.Contains(d + "/")).Distinct().ToList();
        return new GitPatch(written.Select(w => "/" + w.TrimEnd('/')).ToList(), kept.Select(d => "/" + d).ToList());
    }

    private long BlobSize(ObjectId id) => _repository.Lookup<Blob>(id)?.Size ?? 0;

    private TreeChanges Changes(string fromSha)
    {
        var from = _repository.Lookup<Commit>(fromSha) ?? throw new DappException($"commit {fromSha} is not in the repository");
        return _repository.Diff.Compare<TreeChanges>(from.Tree, _current.Tree);
    }

    private IEnumerable<(string Relative, TreeEntry Entry)> Files(Tree tree)
    {
        foreach (var entry in tree)
        {
            if (entry.TargetType == TreeEntryTargetType.Tree)
            {
                foreach (var file in Files((Tree)entry.Target)) yield return file;
            }
            else if (entry.TargetType == TreeEntryTargetType.Blob && InScope(entry.Path) is { } relative)
                yield return (relative, entry);
            else if (entry.TargetType == TreeEntryTargetType.GitLink && InScope(entry.Path) is { } submodule)
                throw Submodule(entry.Path, submodule, entry.Target.Sha);
        }
    }

    /// <summary>Submodules are not put into images yet: an error that says how to leave one out, never a silent skip.</summary>
    private DappException Submodule(string path, string relative, string sha) =>
        new($"git path ({Config.Location}) to {Config.To}: {path} is a git submodule (at commit {sha[..Math.Min(12, sha.Length)]}), "
            + $"and this dapp does not put submodules into images yet: leave it out with excludePaths: [\"{relative}\"] "
            + "(and fetch its files another way), or add its repository as a git path of its own");

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

    private async Task WriteEntryAsync(TarWriter writer, TreeEntry entry, string target, HashSet<string> written, DateTimeOffset time, CancellationToken ct)
    {
        foreach (var dir in ParentsUnderTo(target))
            if (written.Add(dir + "/"))
                await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, dir + "/") { Mode = (UnixFileMode)0b111_101_101, ModificationTime = time }, ct);
        if (!written.Add(target)) return;
        var blob = (Blob)entry.Target;
        TarEntry tar;
        if (entry.Mode == Mode.SymbolicLink)
        {
            tar = new PaxTarEntry(TarEntryType.SymbolicLink, target) { LinkName = blob.GetContentText(), Mode = (UnixFileMode)0b111_111_111 };
        }
        else
        {
            tar = new PaxTarEntry(TarEntryType.RegularFile, target)
            {
                Mode = entry.Mode == Mode.ExecutableFile ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100,
                DataStream = blob.GetContentStream(),
            };
        }
        tar.ModificationTime = time;
        await writer.WriteEntryAsync(tar, ct);
        tar.DataStream?.Dispose();
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
