using System.Security.Cryptography;
using System.Text;

namespace Dapp.Tests.Integration;

/// <summary>A git repository driven with the git CLI, as a user would; its work tree is compared with images.</summary>
public sealed class GitRepo(string dir)
{
    public string Dir => dir;

    public static async Task<GitRepo> InitAsync(string dir, string branch = "master")
    {
        Directory.CreateDirectory(dir);
        var repo = new GitRepo(dir);
        await repo.GitAsync("init", "-q", "-b", branch);
        return repo;
    }

    public async Task<string> GitAsync(params string[] args)
    {
        var result = await Tool.RunAsync("/usr/bin/git", ["-C", dir, "-c", "user.name=dapp test", "-c", "user.email=test@dapp", "-c", "commit.gpgsign=false", .. args]);
        Assert.True(result.ExitCode == 0, $"git {string.Join(' ', args)}: {result.Stderr}");
        return result.Stdout.Trim();
    }

    public void Write(string path, string content) => WriteBytes(path, Encoding.UTF8.GetBytes(content));

    public void WriteBytes(string path, byte[] content)
    {
        var full = Path.Combine(dir, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (File.Exists(full) || Directory.Exists(full) || new FileInfo(full).LinkTarget is not null) File.Delete(full);
        File.WriteAllBytes(full, content);
    }

    public async Task<string> CommitAsync(string message)
    {
        await GitAsync("add", "-A", ".");
        await GitAsync("commit", "-q", "--allow-empty", "-m", message);
        return await GitAsync("rev-parse", "HEAD");
    }

    /// <summary>
    /// The committed tree under <paramref name="subdir"/>, one line per path, in the format of <see cref="ListingScript"/>:
    /// directories, symlinks with their target, files with their exec bit and sha256.
    /// </summary>
    public async Task<IReadOnlyList<string>> TreeListingAsync(string subdir = "", Func<string, bool>? select = null)
    {
        var lines = new List<string>();
        var entries = (await GitAsync("-c", "core.quotepath=off", "ls-tree", "-r", "-t", "HEAD")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var prefix = subdir.Length == 0 ? "" : subdir + "/";
        foreach (var entry in entries)
        {
            var tab = entry.IndexOf('\t');
            var (meta, path) = (entry[..tab].Split(' '), entry[(tab + 1)..]);
            if (!path.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var relative = path[prefix.Length..];
            if (select is not null && !select(relative)) continue;
            // Everything is committed, so the work tree holds the committed bytes.
            var full = Path.Combine(dir, path);
            lines.Add(meta[0] switch
            {
                "040000" => $"D ./{relative}",
                "120000" => $"L ./{relative} {new FileInfo(full).LinkTarget}",
                "100755" => $"F ./{relative} x {Sha(full)}",
                _ => $"F ./{relative} - {Sha(full)}",
            });
        }
        return lines.Order(StringComparer.Ordinal).ToList();
    }

    private static string Sha(string file) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));

    /// <summary>Lists a directory in an image the way <see cref="TreeListingAsync"/> lists a commit.</summary>
    public static string ListingScript(string root) =>
        $"cd {root} && find . -mindepth 1 | while read f; do if [ -L \"$f\" ]; then echo \"L $f $(readlink \"$f\")\"; " +
        "elif [ -d \"$f\" ]; then echo \"D $f\"; else echo \"F $f $([ -x \"$f\" ] && echo x || echo -) $(sha256sum < \"$f\" | cut -d' ' -f1)\"; fi; done | LC_ALL=C sort";
}
