using Dapp.Git;

namespace Dapp.Stages;

/// <summary>
/// What conveyors with git paths need: the repositories, and the labels of a stage image by signature (null when it is
/// not present), which tell the commits it was built at. <paramref name="PeekStageLabels"/>, when given, answers only
/// from what costs no registry read (the local engine): Known is false where <paramref name="StageLabels"/> would read
/// a stage's manifest from a registry (which Docker Hub counts as a pull).
/// </summary>
public sealed record GitContext(GitRepositories Repositories, Func<string, CancellationToken, Task<IReadOnlyDictionary<string, string>?>> StageLabels,
    Func<string, CancellationToken, Task<(bool Known, IReadOnlyDictionary<string, string>? Labels)>>? PeekStageLabels = null);
