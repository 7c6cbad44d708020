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
}
