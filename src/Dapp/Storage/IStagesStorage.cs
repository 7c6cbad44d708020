using Dapp.Reporting;

namespace Dapp.Storage;

/// <summary>
/// Where a project's stages are kept: the local engine (<see cref="LocalStagesStorage"/>) or a registry
/// (<see cref="RegistryStagesStorage"/>, the stages cache of distributed mode and of stages push/pull). Stages are
/// known by signature; the storage owns every transfer between itself and the local engine.
/// </summary>
internal interface IStagesStorage
{
    /// <summary>How messages name it: "the local engine", or the REPO.</summary>
    string Location { get; }

    /// <summary>Which of the signatures it has, asked about all at once.</summary>
    Task<IReadOnlySet<string>> LookUpAsync(IReadOnlyCollection<string> signatures, CancellationToken ct);

    /// <summary>The labels of a stage's image config (the git commits it was built at, …); null when it does not have the stage.</summary>
    Task<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string signature, CancellationToken ct);

    /// <summary>Brings the stages into the local engine as <c>dimgstage-&lt;project&gt;:&lt;signature&gt;</c>, each named only once whole.</summary>
    Task FetchAsync(IReadOnlyList<string> signatures, ITransferDisplay display, CancellationToken ct);

    /// <summary>
    /// Stores the local engine's stage image, unless the storage has the stage (it is never overwritten) or, given its
    /// <paramref name="parent"/>'s signature, the local image was not built on the storage's copy of the parent.
    /// </summary>
    Task<PublishResult> PublishAsync(string signature, string? parent, ITransferDisplay display, CancellationToken ct);

    /// <summary>Makes the local engine's stage the storage's copy (fetched when the local image is another); true when it fetched.</summary>
    Task<bool> SyncLocalCopyAsync(string signature, ITransferDisplay display, CancellationToken ct);

    /// <summary>
    /// Makes the dimg image of a stage (its image plus the dimg labels) as <paramref name="target"/>; false when the
    /// target already is that image. With <paramref name="dryRun"/>, only tells whether it would be made.
    /// </summary>
    Task<bool> TagAsync(string signature, string target, string tagScheme, bool dryRun, CancellationToken ct);
}

/// <summary>What <see cref="IStagesStorage.PublishAsync"/> did with a local stage.</summary>
public enum PublishResult
{
    /// <summary>The local image is the storage's copy now.</summary>
    Published,
    /// <summary>The storage had the stage already, as this very image.</summary>
    AlreadyThere,
    /// <summary>The storage had the stage already, as another image (another build's copy): the local one was not stored.</summary>
    OtherCopyThere,
    /// <summary>Not stored: the local image was not built on the storage's copy of its parent (or the storage lacks the parent).</summary>
    NotOnStoredParent,
}
