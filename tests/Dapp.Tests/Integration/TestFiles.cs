namespace Dapp.Tests.Integration;

public static class TestFiles
{
    /// <summary>Copies a directory tree, file modes included; files already at the target are replaced.</summary>
    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
    }
}
