using System.Reflection;

namespace Dapp;

public static class DappInfo
{
    public static string Version { get; } =
        typeof(DappInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>~/.dapp, where locks and build dirs live (DAPP_HOME overrides it).</summary>
    public static string Home =>
        Environment.GetEnvironmentVariable("DAPP_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dapp");

    /// <summary>
    /// Checks that <see cref="Home"/> is a directory dapp can write (its locks, build dirs and caches live there), making it
    /// when missing: a file or a read-only dir there is an error before any command does anything.
    /// </summary>
    public static void EnsureHome()
    {
        var home = Home;
        var what = Environment.GetEnvironmentVariable("DAPP_HOME") is { Length: > 0 } ? $"DAPP_HOME {home}" : $"dapp's home {home}";
        if (File.Exists(home))
            throw new DappException($"{what} is a file: dapp keeps its locks, build dirs and caches in a directory there; point DAPP_HOME at a directory");
        try
        {
            Directory.CreateDirectory(home);
            var probe = Path.Combine(home, $".write-test-{Environment.ProcessId}");
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DappException($"{what} is not a directory dapp can write ({e.Message}): dapp keeps its locks, build dirs and caches there; "
                + "point DAPP_HOME at a writable directory");
        }
    }
}
