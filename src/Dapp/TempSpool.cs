namespace Dapp;

/// <summary>A temp file for streamed data, deleted when its last handle closes.</summary>
public static class TempSpool
{
    /// <param name="shared">Allow other handles (readers of the same spool) while this one is open.</param>
    public static FileStream Create(string purpose, bool shared = false) =>
        new(Path.Combine(Path.GetTempPath(), $"dapp-{purpose}-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.ReadWrite,
            shared ? FileShare.ReadWrite | FileShare.Delete : FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
}
