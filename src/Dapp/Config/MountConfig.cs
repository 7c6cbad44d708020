namespace Dapp.Config;

public enum MountSource
{
    /// <summary>A fresh empty directory for each build.</summary>
    TmpDir,
    /// <summary>A directory kept between builds of the project (a build cache).</summary>
    BuildDir,
    /// <summary>A directory of the host, given by <c>fromPath</c>.</summary>
    HostPath,
}

/// <summary>A directory mounted into every build container of the image; never part of the image.</summary>
public sealed record MountConfig(string To, MountSource Source, string? FromPath, SourceLocation Location);
