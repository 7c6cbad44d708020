using LibGit2Sharp;

namespace Dapp.Git;

/// <summary>
/// Finds the repository containing a dir, as git does: the nearest ancestor with a <c>.git</c> dir or file.
/// (LibGit2Sharp's <c>Repository.Discover</c> returns an empty path under Native AOT; opening a repository works.)
/// </summary>
internal static class GitDiscovery
{
    /// <summary>The work tree root of the repository containing <paramref name="dir"/>, or null.</summary>
    public static string? FindRoot(string dir)
    {
        for (var current = new DirectoryInfo(Path.GetFullPath(dir)); current is not null; current = current.Parent)
        {
            var dotGit = Path.Combine(current.FullName, ".git");
            if ((Directory.Exists(dotGit) || File.Exists(dotGit)) && Repository.IsValid(current.FullName))
                return current.FullName;
        }
        return null;
    }
}
