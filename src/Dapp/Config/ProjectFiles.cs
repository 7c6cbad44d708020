using Dapp.Config.Templates;

namespace Dapp.Config;

/// <summary>
/// The files a dappfile may read (<c>.Files.Get</c>, <c>.dappfiles/**/*.tmpl</c>, the dappfile itself): only those inside
/// the project's root (the git work tree holding the work dir, else the work dir), judged after every symlink is
/// resolved, and only as much of each as <see cref="TemplateLimits.MaxValueChars"/> allows. A dappfile may come from
/// an untrusted merge request: it must not read the build host (docs/reliability.md#what-a-dappfile-may-read).
/// </summary>
internal sealed class ProjectFiles
{
    private readonly string _realRoot;

    /// <param name="root">The project's root; <paramref name="workDir"/> is where relative paths start (the dappfile's dir).</param>
    public ProjectFiles(string root, string workDir)
    {
        Root = Path.GetFullPath(root);
        WorkDir = Path.GetFullPath(workDir);
        _realRoot = RealPath(Root);
    }

    public string Root { get; }
    public string WorkDir { get; }

    /// <summary>
    /// The real path of <paramref name="path"/> (relative to the work dir) when it is inside the root, else an error
    /// naming the path and why; <paramref name="what"/> says who asked (<c>.Files.Get "x"</c>).
    /// </summary>
    public string Resolve(string path, string what)
    {
        if (path.Contains('\0')) throw new TemplateRuntimeException($"{what}: the path contains a NUL character");
        var full = Path.GetFullPath(Path.Combine(WorkDir, path));
        var real = RealPath(full);
        if (!IsInside(real, _realRoot))
            throw new TemplateRuntimeException(real == full
                ? $"{what}: {full} is outside the project ({Root}); a dappfile reads only the project's files"
                : $"{what}: {full} leads to {real} (through a symlink), outside the project ({Root}); a dappfile reads only the project's files");
        return real;
    }

    /// <summary>
    /// The bytes of a file inside the project, or null when there is none. Only what a regular file holds is read: a
    /// FIFO or a device (st_size 0) reads as empty and is never opened, and no more than the bound is read from any file.
    /// </summary>
    public byte[]? ReadBytes(string path, string what)
    {
        var real = Resolve(path, what);
        if (Directory.Exists(real)) throw new TemplateRuntimeException($"{what}: {real} is a directory");
        if (!File.Exists(real)) return null;
        return ReadBounded(real, TemplateLimits.MaxValueChars)
            ?? throw new TemplateRuntimeException($"{what}: {real} is larger than the {TemplateLimits.Mib(TemplateLimits.MaxValueChars)} a dappfile may read");
    }

    /// <summary>
    /// The bytes of a file, null when it has more than <paramref name="limit"/> (never read past it); a file whose size
    /// is 0 (an empty file, a FIFO, a device) is not opened: opening a FIFO would wait for a writer that never comes.
    /// </summary>
    public static byte[]? ReadBounded(string path, int limit)
    {
        var info = new FileInfo(path);
        if (info.Length == 0) return [];
        if (info.Length > limit) return null;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buffer = new byte[Math.Min(info.Length, limit) + 1];
        int total = 0, read;
        while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0) total += read;
        return total > limit ? null : buffer[..total];
    }

    private static bool IsInside(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);

    /// <summary>The path with every symlink of every component resolved (as realpath(3)), for a path that may not exist.</summary>
    public static string RealPath(string absolute)
    {
        var pending = new Stack<string>(absolute.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = "/";
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }
            var next = Path.Join(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            // As the kernel does (ELOOP): a chain of links this long is a loop.
            if (++links > 40) throw new TemplateRuntimeException($"{absolute}: too many levels of symbolic links");
            foreach (var piece in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse()) pending.Push(piece);
            if (target.StartsWith('/')) current = "/";
        }
        return current;
    }
}
