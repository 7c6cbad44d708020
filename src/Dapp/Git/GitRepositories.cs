using System.Security.Cryptography;
using System.Text;
using Dapp.Config;
using LibGit2Sharp;

namespace Dapp.Git;

/// <summary>
/// The repositories a command's git paths read: the project's own (the work dir's) and remote ones, fetched bare by
/// the system's git (<see cref="SystemGit"/>) into <c>~/.dapp/git_repo</c> once per command. Conveyors are computed
/// one at a time; chains building at once read the repositories through <see cref="GitPath"/>, under one lock.
/// </summary>
public sealed class GitRepositories(string workDir, string cacheDir, SystemGit git) : IDisposable
{
    private readonly Dictionary<string, Repository> _open = new();
    private readonly Dictionary<GitPathConfig, GitPath> _resolved = new(ReferenceEqualityComparer.Instance);
    private Submodules? _submodules;

    public GitPath Resolve(GitPathConfig config, string image)
    {
        if (_resolved.TryGetValue(config, out var known)) return known;
        var repository = config.Url is { } url ? Remote(url, config.Location.ToString()) : Local(config, image);
        var commit = config switch
        {
            { Commit: { } sha } => repository.Lookup<Commit>(sha)
                ?? throw new DappException($"{image} ({config.Location}): commit {sha} is not in {Display(config)}"),
            { Tag: { } tag } => (repository.Tags[tag]?.PeeledTarget as Commit)
                ?? throw new DappException($"{image} ({config.Location}): tag {tag} is not in {Display(config)}"),
            { Url: not null } => RemoteBranch(repository, config, image),
            _ => repository.Head.Tip ?? throw new DappException($"{image} ({config.Location}): the project's repository has no commit yet"),
        };
        // Without credentials: a URL's token must neither show nor change signatures when it rotates.
        var baseUrl = config.Url ?? repository.Network.Remotes["origin"]?.Url ?? repository.Info.WorkingDirectory;
        _submodules ??= new Submodules(submoduleUrl => Remote(submoduleUrl, null));
        var path = new GitPath(config, new RepositoryAt(repository, commit, "", baseUrl), config.Url is { } remote ? UrlCredentials.Redact(remote) : "own", _submodules);
        _resolved[config] = path;
        return path;
    }

    private Repository Local(GitPathConfig config, string image)
    {
        if (_open.TryGetValue("", out var open)) return open;
        var root = GitDiscovery.FindRoot(workDir)
            ?? throw new DappException($"{image} ({config.Location}): a git path without url needs the project to be in a git repository, and {workDir} is not");
        return _open[""] = new Repository(root);
    }

    private Repository Remote(string url, string? location)
    {
        if (_open.TryGetValue(url, out var open)) return open;
        var shown = UrlCredentials.Redact(url);
        var name = Path.GetFileNameWithoutExtension(shown.TrimEnd('/'));
        var dir = Path.Combine(cacheDir, $"{Slug.Make(name)}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(shown)))[..12]}");
        try
        {
            using (HostLockFor(dir))
                git.Fetch(url, dir);
            return _open[url] = new Repository(dir);
        }
        catch (Exception e) when (e is DappException or LibGit2SharpException)
        {
            throw new DappException(location is null ? UrlCredentials.Redact(e.Message) : $"git {shown} ({location}): {UrlCredentials.Redact(e.Message)}", e);
        }
    }

    /// <summary>Two dapp processes fetching into one cache directory would race on its refs.</summary>
    private static HostLock HostLockFor(string dir) =>
        HostLock.AcquireAsync("git_repo." + Path.GetFileName(dir), TimeSpan.FromMinutes(30), () => { }, CancellationToken.None).GetAwaiter().GetResult();

    private static string Display(GitPathConfig config) => config.Url is { } url ? UrlCredentials.Redact(url) : "the project's repository";

    private static Commit RemoteBranch(Repository repository, GitPathConfig config, string image)
    {
        var branch = config.Branch ?? repository.Head.FriendlyName;
        return (repository.Refs[$"refs/remotes/origin/{branch}"]?.ResolveToDirectReference()?.Target as Commit)
            ?? throw new DappException($"{image} ({config.Location}): branch {branch} is not in {Display(config)}");
    }

    public void Dispose()
    {
        _submodules?.Dispose();
        foreach (var repository in _open.Values) repository.Dispose();
        _open.Clear();
    }
}
