[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Dapp.Tests;

internal static class TestPaths
{
    /// <summary>The repository root, found from the test assembly's location.</summary>
    public static string RepoRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Dapp.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root from " + AppContext.BaseDirectory);
    }
}
