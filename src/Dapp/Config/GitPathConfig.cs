namespace Dapp.Config;

/// <summary>A <c>git</c> entry: files of the project's repository (no <c>url</c>) or of a remote one.</summary>
public sealed record GitPathConfig(
    string? Url,
    string Add,
    string To,
    string? Owner,
    string? Group,
    IReadOnlyList<string> IncludePaths,
    IReadOnlyList<string> ExcludePaths,
    string? Branch,
    string? Tag,
    string? Commit,
    IReadOnlyDictionary<UserStage, IReadOnlyList<string>> StageDependencies,
    SourceLocation Location)
{
    public bool IsRemote => Url is not null;
}
