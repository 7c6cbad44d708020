using Dapp.Engine;
using Dapp.Reporting;
using Docker.DotNet.Models;

namespace Dapp.Storage;

/// <summary>The project's stages in the local engine: <c>dimgstage-&lt;project&gt;:&lt;signature&gt;</c>.</summary>
public sealed class LocalStagesStorage(IDockerEngine engine, string project) : IStagesStorage, ILocalStages
{
    public string Project => project;

    public string Location => "the local engine";

    public string Repository => $"dimgstage-{project}";

    public string ImageName(string signature) => $"{Repository}:{signature}";

    public Task<ImageInspectResponse?> InspectAsync(string signature, CancellationToken ct) => engine.InspectImageAsync(ImageName(signature), ct);

    public Task<bool> ExistsAsync(string signature, CancellationToken ct) => engine.ImageExistsAsync(ImageName(signature), ct);

    /// <summary>Every local stage image of the project, with its tags.</summary>
    public async Task<IReadOnlyList<ImagesListResponse>> ListAsync(CancellationToken ct) =>
        (await engine.ListImagesAsync(Filters.Of("reference", Repository), ct)).ToList();

    /// <summary>The signatures of every local stage of the project, in one engine call.</summary>
    public async Task<IReadOnlySet<string>> ListSignaturesAsync(CancellationToken ct) =>
        (await ListAsync(ct)).SelectMany(i => i.RepoTags ?? [])
            .Where(t => t.StartsWith(Repository + ":", StringComparison.Ordinal))
            .Select(t => t[(Repository.Length + 1)..])
            .ToHashSet();

    public async Task<IReadOnlySet<string>> LookUpAsync(IReadOnlyCollection<string> signatures, CancellationToken ct)
    {
        var local = await ListSignaturesAsync(ct);
        return signatures.Where(local.Contains).ToHashSet();
    }

    public async Task<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string signature, CancellationToken ct) =>
        (await InspectAsync(signature, ct)) is { } image ? (image.Config?.Labels ?? new Dictionary<string, string>()).AsReadOnly() : null;

    /// <summary>Nothing to move: the stages must be here already.</summary>
    public async Task FetchAsync(IReadOnlyList<string> signatures, ITransferDisplay display, CancellationToken ct)
    {
        foreach (var signature in signatures)
            if (!await ExistsAsync(signature, ct))
                throw new DappException($"stage {ImageName(signature)} is not in the local engine");
    }

    /// <summary>Stages are committed into the engine as they are built: there is nothing to store.</summary>
    public Task<PublishResult> PublishAsync(string signature, string? parent, ITransferDisplay display, CancellationToken ct) =>
        Task.FromResult(PublishResult.AlreadyThere);

    /// <summary>The local engine's stage is its own copy.</summary>
    public Task<bool> SyncLocalCopyAsync(string signature, ITransferDisplay display, CancellationToken ct) => Task.FromResult(false);

    /// <summary>Commits the stage image, unchanged but for the dimg labels, as <paramref name="target"/>.</summary>
    public async Task<bool> TagAsync(string signature, string target, string tagScheme, bool dryRun, CancellationToken ct)
    {
        if (dryRun) return true;
        var stage = await InspectAsync(signature, ct) ?? throw new DappException($"stage {ImageName(signature)} disappeared");
        var container = await engine.CreateIdleContainerAsync(ImageName(signature), DappContainers.Name(project, "tag"), DappContainers.Labels(project));
        try
        {
            var labels = new Dictionary<string, string> { [DappLabels.Dimg] = "true", [DappLabels.TagScheme] = tagScheme };
            await engine.CommitAsync(container, CommitParameters.Of(stage.Config ?? new DockerOCIImageConfig(), labels), target, ct);
        }
        finally
        {
            await engine.RemoveContainerAsync(container, CancellationToken.None);
        }
        return true;
    }

    /// <summary>Every local stage of the project with its labels and age, for cleanup.</summary>
    public async Task<IReadOnlyList<LocalStage>> StagesAsync(CancellationToken ct) =>
        (await ListAsync(ct)).SelectMany(i => (i.RepoTags ?? [])
                .Where(t => t.StartsWith(Repository + ":", StringComparison.Ordinal))
                .Select(t => new LocalStage(t[(Repository.Length + 1)..], i.ID, (i.Labels ?? new Dictionary<string, string>()).AsReadOnly(),
                    new DateTimeOffset(DateTime.SpecifyKind(i.Created, DateTimeKind.Utc)), i.Size)))
            .ToList();

    /// <summary>The IDs of the images that containers (running or not, of any project) were made from.</summary>
    public async Task<IReadOnlySet<string>> ImagesInUseAsync(CancellationToken ct) =>
        (await engine.ListContainersAsync(new Dictionary<string, IDictionary<string, bool>>(), ct)).Select(c => c.ImageID).ToHashSet();

    /// <summary>Removes a stage's name; the image goes with it unless another name or a child image still needs it.</summary>
    public Task<bool> RemoveAsync(string signature, CancellationToken ct) => engine.RemoveImageAsync(ImageName(signature), force: false, ct);

    /// <summary>Removes every stage tag of the project, whoever uses it; returns how many were removed.</summary>
    public async Task<int> FlushAsync(CancellationToken ct)
    {
        int removed = 0;
        foreach (var signature in await ListSignaturesAsync(ct))
            if (await engine.RemoveImageAsync(ImageName(signature), force: true, ct))
                removed++;
        return removed;
    }
}

/// <summary>A stage image in the local engine as cleanup sees it.</summary>
public sealed record LocalStage(string Signature, string ImageId, IReadOnlyDictionary<string, string> Labels, DateTimeOffset Created, long Size);
