using Dapp.Config;
using Dapp.Git;

namespace Dapp.Commands;

/// <summary>The project name (docs/image-naming.md): --name, the origin remote, the repo dir, the work dir; always slugified.</summary>
internal static class ProjectName
{
    public static string Resolve(string? nameOption, string workDir, WorkTreeRepository? repository)
    {
        if (nameOption is not null && string.IsNullOrWhiteSpace(nameOption))
            throw new DappException("--name is empty: give the project's name, or leave --name out to take it from git or the directory");
        if (nameOption is not null) return Slug.Make(nameOption);
        if (repository?.OriginUrl is { Length: > 0 } url && FromRemoteUrl(url) is { Length: > 0 } fromUrl) return Slug.Make(fromUrl);
        var dir = repository?.Root ?? workDir;
        return Slug.Make(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir))));
    }

    /// <summary>The last path element of a remote URL without <c>.git</c>: <c>git@host:group/app.git</c> gives <c>app</c>.</summary>
    public static string FromRemoteUrl(string url)
    {
        var trimmed = url.TrimEnd('/');
        var cut = Math.Max(trimmed.LastIndexOf('/'), trimmed.LastIndexOf(':'));
        var last = trimmed[(cut + 1)..];
        return last.EndsWith(".git", StringComparison.Ordinal) ? last[..^4] : last;
    }
}
