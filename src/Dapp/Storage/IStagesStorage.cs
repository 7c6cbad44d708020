using Dapp.Reporting;

namespace Dapp.Storage;

/// <summary>
/// Where a project's stages are kept: the local engine (<see cref="LocalStagesStorage"/>) or a registry
/// (<see cref="RegistryStagesStorage"/>, the stages cache of distributed mode and of stages push/pull). Stages are
/// known by signature; the storage owns every transfer between itself and the local engine.
/// </summary>
public interface IStagesStorage
{
    /// <summary>How messages name it: "the local engine", or the REPO.</summary>
    string Location { get; }

    /// <summary>Which of the signatures it has, asked about all at once.</summary>
    Task<IReadOnlySet<string>> LookUpAsync(IReadOnlyCollection<string> signatures, CancellationToken ct);

    /// <summary>The labels of a stage's image config (the git commits it was built at, …); null when it does not have the stage.</summary>
    Task<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string signature, CancellationToken ct);

    /// <summary>Brings the stages into the local engine as <c>dimgstage-&lt;project&gt;:&lt;signature&gt;</c>, each named only once whole.</summary>
    Task FetchAsync(IReadOnlyList<string> signatures, ITransferDisplay display, CancellationToken ct);

    /// <summary>Stores the local engine's stage image; false when the storage already had the stage (it is never overwritten).</summary>
    Task<bool> PublishAsync(string signature, ITransferDisplay display, CancellationToken ct);

    /// <summary>
    /// Makes the dimg image of a stage (its image plus the dimg labels) as <paramref name="target"/>; false when the
    /// target already is that image. With <paramref name="dryRun"/>, only tells whether it would be made.
    /// </summary>
    Task<bool> TagAsync(string signature, string target, string tagScheme, bool dryRun, CancellationToken ct);
}
