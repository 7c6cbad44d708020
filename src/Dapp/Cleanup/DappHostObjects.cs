using Dapp.Engine;

namespace Dapp.Cleanup;

/// <summary>An image dapp made, of any project, as mrproper sees it.</summary>
internal sealed record DappImage(string Id, IReadOnlyList<string> Names, IReadOnlyDictionary<string, string> Labels, long Size)
{
    public bool IsStage => Names.Any(n => n.StartsWith("dimgstage-", StringComparison.Ordinal));
}

/// <summary>
/// What dapp leaves in an engine across all projects (<c>dimg mrproper</c>, docs/cleanup.md): its build containers (label
/// <c>dapp-build-container</c>) and the images labelled <c>dapp</c> (stages and dimg images).
/// </summary>
internal sealed class DappHostObjects(IDockerEngine engine)
{
    public async Task PingAsync(CancellationToken ct) => await engine.PingAsync(ct);

    /// <summary>dapp's build containers: labelled and named by dapp (a user's container from a dapp image has the label too).</summary>
    public async Task<IReadOnlyList<(string Id, string Name)>> BuildContainersAsync(CancellationToken ct) =>
        (await ContainersLabelledAsync(DappLabels.BuildContainer, ct)).Where(c => DappContainers.IsDapps(c.Name)).ToList();

    public Task<ImageUsers> ImageUsersAsync(CancellationToken ct) => ImageUsers.ReadAsync(engine, ct);

    private async Task<IReadOnlyList<(string Id, string Name)>> ContainersLabelledAsync(string label, CancellationToken ct) =>
        (await engine.ListContainersAsync(Filters.Labels(label), ct)).Select(c => (c.ID, c.Names.FirstOrDefault()?.TrimStart('/') ?? c.ID)).ToList();

    public Task<IReadOnlyList<DappImage>> ImagesAsync(CancellationToken ct) => ImagesLabelledAsync(DappLabels.Project, ct);

    private async Task<IReadOnlyList<DappImage>> ImagesLabelledAsync(string label, CancellationToken ct) =>
        (await engine.ListImagesAsync(Filters.Labels(label), ct))
            .Select(i => new DappImage(i.ID, (i.RepoTags ?? []).Where(t => t != "<none>:<none>").ToList(), (i.Labels ?? new Dictionary<string, string>()).AsReadOnly(), i.Size))
            .ToList();

    public Task RemoveContainerAsync(string id, CancellationToken ct) => engine.RemoveContainerAsync(id, ct);

    /// <summary>The toolchains' containers (their volumes go with them) and images (docs/dappfile.md#the-ansible-builder).</summary>
    public Task<IReadOnlyList<(string Id, string Name)>> DepsContainersAsync(CancellationToken ct) => ContainersLabelledAsync(DappLabels.Deps, ct);

    public Task<IReadOnlyList<DappImage>> DepsImagesAsync(CancellationToken ct) => ImagesLabelledAsync(DappLabels.Deps, ct);

    /// <summary>
    /// Removes an image: each of its names, then the image itself if it is still there (an image with child images
    /// stays until they go, and goes with the last of them).
    /// </summary>
    public async Task RemoveImageAsync(DappImage image, CancellationToken ct)
    {
        foreach (var name in image.Names) await engine.RemoveImageAsync(name, force: true, ct);
        if (image.Names.Count == 0) await engine.RemoveImageAsync(image.Id, force: true, ct);
    }
}
