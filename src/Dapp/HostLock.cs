namespace Dapp;

/// <summary>
/// An exclusive lock on a file under <c>~/.dapp/locks</c>, shared by every dapp process of the host (an flock:
/// released by the kernel when the process dies, so a killed dapp never leaves a stale lock). Stage builds take one
/// per stage; uploads take one per upload slot.
/// </summary>
internal sealed class HostLock : IDisposable
{
    private readonly FileStream _stream;

    private HostLock(FileStream stream) => _stream = stream;

    private static string PathOf(string name)
    {
        var dir = Path.Combine(DappInfo.Home, "locks");
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, name + ".lock");
    }

    /// <summary>The lock, or null at once when another process holds it.</summary>
    public static HostLock? TryAcquire(string name)
    {
        try
        {
            return new HostLock(new FileStream(PathOf(name), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static async Task<HostLock> AcquireAsync(string name, TimeSpan timeout, Action onWaiting, CancellationToken ct)
    {
        var path = PathOf(name);
        var deadline = DateTime.UtcNow + timeout;
        var waiting = false;
        while (true)
        {
            if (TryAcquire(name) is { } acquired) return acquired;
            if (DateTime.UtcNow >= deadline)
                throw new DappException($"Timed out after {timeout.TotalSeconds:0} s waiting for the lock {path} (another dapp process is building the same stage; see --lock-timeout)");
            if (!waiting) { onWaiting(); waiting = true; }
            await Task.Delay(100, ct);
        }
    }

    public void Dispose() => _stream.Dispose();
}
