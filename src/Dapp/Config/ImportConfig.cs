namespace Dapp.Config;

public enum ImportPoint
{
    BeforeInstall,
    AfterInstall,
    BeforeSetup,
    AfterSetup,
}

/// <summary>Files copied from an artifact's last stage into an image.</summary>
public sealed record ImportConfig(
    string Artifact,
    string Add,
    string To,
    IReadOnlyList<string> IncludePaths,
    IReadOnlyList<string> ExcludePaths,
    string? Owner,
    string? Group,
    ImportPoint Point,
    SourceLocation Location);
