namespace Dapp;

/// <summary>Files and dirs only their owner may read: what dapp writes that may hold a secret (a rendering, a spool).</summary>
internal static class PrivateFiles
{
    private const UnixFileMode FileMode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirMode700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>A new file, mode 0600 from its creation (never readable by others, not even for an instant).</summary>
    public static FileStream Create(string path, FileAccess access = FileAccess.Write, FileShare share = FileShare.None, FileOptions options = FileOptions.None)
    {
        var settings = new FileStreamOptions { Mode = FileMode.CreateNew, Access = access, Share = share, Options = options, BufferSize = 1 << 16 };
        if (!OperatingSystem.IsWindows()) settings.UnixCreateMode = FileMode600;
        return new FileStream(path, settings);
    }

    /// <summary>
    /// A dir of this user's, mode 0700, made if missing; an existing one must be a real dir (not a link another user
    /// planted) with that mode, else an error naming it.
    /// </summary>
    public static string EnsureDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return path;
        }
        if (!Directory.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            try
            {
                Directory.CreateDirectory(path, DirMode700);
            }
            catch (IOException) when (Directory.Exists(path))
            {
                // Made by another process meanwhile: checked below like any existing dir.
            }
        }
        var info = new DirectoryInfo(path);
        if (info.LinkTarget is not null || !info.Exists)
            throw new DappException($"{path} must be a directory of this user's, not a link or a file: remove it and run again");
        if ((info.UnixFileMode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
            File.SetUnixFileMode(path, DirMode700);
        return path;
    }
}
