using System.Globalization;

namespace Dapp;

/// <summary>
/// Temp files for streamed data (layers, saves, archives), deleted when their last handle closes. They live in a dir of
/// this user's (mode 0700, each file 0600: a layer may hold a secret) and are named after the process that made them,
/// so that the spools of a killed process are swept by the next command (<see cref="FindEnded"/>).
/// </summary>
internal static class TempSpool
{
    /// <summary>The spool dir: <c>$TMPDIR/dapp-spools-USER</c>.</summary>
    public static string Directory => Path.Combine(Path.GetTempPath(), $"dapp-spools-{Environment.UserName}");

    /// <param name="shared">Allow other handles (readers of the same spool) while this one is open.</param>
    public static FileStream Create(string purpose, bool shared = false)
    {
        var owner = ProcessOwner.Current;
        var path = Path.Combine(PrivateFiles.EnsureDirectory(Directory),
            string.Create(CultureInfo.InvariantCulture, $"{purpose}.{owner.Pid}.{owner.StartTicks}.{Guid.NewGuid():N}"));
        return PrivateFiles.Create(path, FileAccess.ReadWrite, shared ? FileShare.ReadWrite | FileShare.Delete : FileShare.None,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
    }

    /// <summary>
    /// A read handle of its own on a shared spool, at <paramref name="offset"/>: parallel readers (loads, uploads and
    /// their retries) do not move each other's position.
    /// </summary>
    public static FileStream OpenView(FileStream spool, long offset = 0)
    {
        var view = new FileStream(spool.Name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.Asynchronous);
        view.Position = offset;
        return view;
    }

    /// <summary>The spools whose process has ended (a killed dapp leaves them: DeleteOnClose never ran), with that process's pid.</summary>
    public static IReadOnlyList<(string Path, int Pid)> FindEnded()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        var current = ProcessOwner.Current;
        var ended = new List<(string, int)>();
        var alive = new Dictionary<(int, long), bool>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            var parts = Path.GetFileName(path).Split('.');
            if (parts.Length != 4 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var start)) continue;
            if (!alive.TryGetValue((pid, start), out var running))
                alive[(pid, start)] = running = !(current with { Pid = pid, StartTicks = start }).HasEnded(current);
            if (!running) ended.Add((path, pid));
        }
        return ended;
    }
}
