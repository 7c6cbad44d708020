using System.Security.Cryptography;
using System.Text;
using Dapp.Config;
using LibGit2Sharp;

namespace Dapp.Git;

/// <summary>
/// The repositories a command's git paths read: the project's own (the work dir's) and remote ones, cloned bare
/// into <c>~/.dapp/git_repo</c> and fetched once per command. Not thread-safe: conveyors are computed and git stages
/// built one at a time.
/// </summary>
public sealed class GitRepositories(string workDir, string cacheDir) : IDisposable
{
    private readonly Dictionary<string, Repository> _open = new();
    private readonly Dictionary<GitPathConfig, GitPath> _resolved = new(ReferenceEqualityComparer.Instance);

    public GitPath Resolve(GitPathConfig config, string image)
    {
        if (_resolved.TryGetValue(config, out var known)) return known;
        var repository = config.Url is { } url ? Remote(url, config) : Local(config, image);
        var commit = config switch
        {
            { Commit: { } sha } => repository.Lookup<Commit>(sha)
                ?? throw new DappException($"{image} ({config.Location}): commit {sha} is not in {config.Url}"),
            { Tag: { } tag } => (repository.Tags[tag]?.PeeledTarget as Commit)
                ?? throw new DappException($"{image} ({config.Location}): tag {tag} is not in {config.Url}"),
            { Url: not null } => RemoteBranch(repository, config, image),
            _ => repository.Head.Tip ?? throw new DappException($"{image} ({config.Location}): the project's repository has no commit yet"),
        };
        var path = new GitPath(config, repository, commit, config.Url ?? "own");
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

    private Repository Remote(string url, GitPathConfig config)
    {
        if (_open.TryGetValue(url, out var open)) return open;
        var name = Path.GetFileNameWithoutExtension(url.TrimEnd('/'));
        var dir = Path.Combine(cacheDir, $"{Slug.Make(name)}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url)))[..12]}");
        try
        {
            if (!Repository.IsValid(dir))
            {
                if (Directory.Exists(dir)) Directory.Delete(dir, true);
                Directory.CreateDirectory(cacheDir);
                var staging = dir + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
                Repository.Clone(url, staging, new CloneOptions { IsBare = true });
                Directory.Move(staging, dir);
            }
            var repository = new Repository(dir);
            LibGit2Sharp.Commands.Fetch(repository, "origin", ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"],
                new FetchOptions { Prune = true }, null);
            return _open[url] = repository;
        }
        catch (LibGit2SharpException e)
        {
            throw new DappException($"git {url} ({config.Location}): {e.Message}", e);
        }
    }

    private static Commit RemoteBranch(Repository repository, GitPathConfig config, string image)
    {
        var branch = config.Branch ?? repository.Head.FriendlyName;
        return (repository.Refs[$"refs/remotes/origin/{branch}"]?.ResolveToDirectReference()?.Target as Commit)
            ?? throw new DappException($"{image} ({config.Location}): branch {branch} is not in {config.Url}");
    }

    public void Dispose()
    {
        foreach (var repository in _open.Values) repository.Dispose();
        _open.Clear();
    }
}
