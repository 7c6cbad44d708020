using System.Security.Cryptography;
using System.Text;
using Dapp.Registry.Names;

namespace Dapp.Storage;

/// <summary>
/// One of this host's upload slots for a repository: the scratch tag <c>dapp-upload-N</c> under which the engine pushes
/// an image whose real tag dapp writes itself (<see cref="ImageTransfer.UploadAsync"/>). A slot is held by one process
/// of the host at a time (a <see cref="HostLock"/>); processes take the lowest free one, so a repository gets a few
/// such tags, each reused by every upload. Hosts share them: an upload reads back what the engine wrote by digest.
/// </summary>
public sealed class UploadSlot : IDisposable
{
    public const string TagPrefix = "dapp-upload-";

    /// <summary>More uploads at once than this wait for a slot; above any --parallel a host uses in practice.</summary>
    public const int Count = 16;

    private readonly HostLock _lock;

    private UploadSlot(HostLock held, string tag)
    {
        _lock = held;
        Tag = tag;
    }

    public string Tag { get; }

    public static async Task<UploadSlot> AcquireAsync(RepositoryName repository, CancellationToken ct)
    {
        while (true)
        {
            for (int i = 0; i < Count; i++)
                if (HostLock.TryAcquire(LockName(repository, i)) is { } held)
                    return new UploadSlot(held, TagPrefix + i);
            await Task.Delay(50, ct);
        }
    }

    /// <summary>Whether a process of this host holds the slot that <paramref name="tag"/> names.</summary>
    public static bool IsHeld(RepositoryName repository, string tag)
    {
        if (!tag.StartsWith(TagPrefix, StringComparison.Ordinal) || !int.TryParse(tag[TagPrefix.Length..], out var slot)) return false;
        using var free = HostLock.TryAcquire(LockName(repository, slot));
        return free is null;
    }

    private static string LockName(RepositoryName repository, int slot) =>
        $"upload-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(repository.ToString())))[..16]}-{slot}";

    public void Dispose() => _lock.Dispose();
}
