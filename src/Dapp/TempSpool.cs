namespace Dapp;

/// <summary>A temp file for streamed data, deleted when its last handle closes.</summary>
public static class TempSpool
{
    /// <param name="shared">Allow other handles (readers of the same spool) while this one is open.</param>
    public static FileStream Create(string purpose, bool shared = false) =>
        new(Path.Combine(Path.GetTempPath(), $"dapp-{purpose}-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.ReadWrite,
            shared ? FileShare.ReadWrite | FileShare.Delete : FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);

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
}
