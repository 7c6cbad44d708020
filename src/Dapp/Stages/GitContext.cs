using Dapp.Git;

namespace Dapp.Stages;

/// <summary>
/// What conveyors with git paths need: the repositories, and the labels of a stage image by signature (null when it is
/// not present), which tell the commits it was built at.
/// </summary>
public sealed record GitContext(GitRepositories Repositories, Func<string, CancellationToken, Task<IReadOnlyDictionary<string, string>?>> StageLabels);
