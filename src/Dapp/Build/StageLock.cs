namespace Dapp.Build;

/// <summary>
/// An exclusive lock on a file under <c>~/.dapp/locks</c>, shared by every dapp process of the host (an flock:
/// released by the kernel when the process dies, so a killed build never leaves a stale lock).
/// </summary>
public sealed class StageLock : IDisposable
{
    private readonly FileStream _stream;

    private StageLock(FileStream stream) => _stream = stream;

    public static async Task<StageLock> AcquireAsync(string name, TimeSpan timeout, Action onWaiting, CancellationToken ct)
    {
        var dir = Path.Combine(DappInfo.Home, "locks");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name + ".lock");
        var deadline = DateTime.UtcNow + timeout;
        var waiting = false;
        while (true)
        {
            try
            {
                return new StageLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                if (!waiting) { onWaiting(); waiting = true; }
                await Task.Delay(100, ct);
            }
            catch (IOException)
            {
                throw new DappException($"Timed out after {timeout.TotalSeconds:0} s waiting for the lock {path} (another dapp process is building the same stage; see --lock-timeout)");
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
