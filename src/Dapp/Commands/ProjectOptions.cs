namespace Dapp.Commands;

/// <summary>The options every command shares.</summary>
public sealed record ProjectOptions
{
    /// <summary>The work dir (--dir); the current dir when null.</summary>
    public string? Dir { get; init; }

    /// <summary>The project name (--name); derived from git or the directory when null.</summary>
    public string? Name { get; init; }

    /// <summary>--build-dir: where build_dir mounts live.</summary>
    public string? BuildDir { get; init; }

    /// <summary>The Docker engine endpoint; DOCKER_HOST or the default socket when null.</summary>
    public string? DockerHost { get; init; }

    public Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;

    /// <summary>What the commands talk to: the engine at <see cref="DockerHost"/>, unless a test puts an in-memory one here.</summary>
    internal Func<Engine.IDockerEngine>? Engine { get; init; }

    /// <summary>--tmp-dir-prefix: where a build's temporary directories (tmp_dir mounts) go; the system's temp dir when null.</summary>
    public string? TmpDirPrefix { get; init; }

    /// <summary>--ssh-key: the private keys remote git paths over SSH are fetched with (else the ssh-agent's and the user's).</summary>
    public IReadOnlyList<string> SshKeys { get; init; } = [];

    /// <summary>The root of the files a dappfile may read: the git work tree holding the work dir, else the work dir.</summary>
    public static string FilesRoot(string workDir) => Git.GitDiscovery.FindRoot(workDir) ?? workDir;

    /// <summary>The work dir, absolute; an error when it does not exist.</summary>
    public string ResolveWorkDir()
    {
        var workDir = Path.GetFullPath(Dir ?? Directory.GetCurrentDirectory());
        return Directory.Exists(workDir) ? workDir : throw new DappException($"--dir {workDir}: no such directory");
    }
}
