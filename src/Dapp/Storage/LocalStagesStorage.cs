using Dapp.Engine;
using Docker.DotNet.Models;

namespace Dapp.Storage;

/// <summary>The project's stages in the local engine: <c>dimgstage-&lt;project&gt;:&lt;signature&gt;</c>.</summary>
public sealed class LocalStagesStorage(DockerEngine engine, string project)
{
    public string Project => project;

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

    /// <summary>Removes every stage tag of the project; returns how many were removed.</summary>
    public async Task<int> FlushAsync(CancellationToken ct)
    {
        int removed = 0;
        foreach (var signature in await ListSignaturesAsync(ct))
            if (await engine.RemoveImageAsync(ImageName(signature), force: true, ct))
                removed++;
        return removed;
    }
}
