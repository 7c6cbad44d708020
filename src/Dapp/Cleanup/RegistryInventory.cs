using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Engine;
using Dapp.Storage;
using Dapp.Registry.Model;

namespace Dapp.Cleanup;

/// <summary>A dimg tag in a registry as cleanup sees it: its manifest's digest, its labels and age.</summary>
internal sealed record StoredDimgTag(ImageReference Reference, string? Dimg, string Digest, IReadOnlyDictionary<string, string> Labels,
    DateTimeOffset? Created, long Bytes)
{
    public string Tag => Reference.Tag!;

    /// <summary>How the tag was chosen (<c>dapp-tag-scheme</c>): git_branch, git_tag, git_commit, custom or ci.</summary>
    public string? Scheme => Labels.GetValueOrDefault(DappLabels.TagScheme);

    public string? StageSignature => Labels.GetValueOrDefault(DappLabels.StageSignature);
}

/// <summary>
/// What a REPO holds, read for cleanup (docs/cleanup.md): one tag listing per repository (paginated), a manifest and a
/// config per tag, all at once (the client's per-registry limit bounds them), and deletion by manifest digest.
/// </summary>
internal sealed class RegistryInventory(RegistryAccess registry)
{
    private readonly ConcurrentDictionary<RepositoryName, Task<IReadOnlyList<string>>> _tags = new();
    private readonly ConcurrentDictionary<RepositoryName, EmptyManifests> _emptyManifests = new();
    private readonly ConcurrentDictionary<ImageReference, string> _standIns = new();

    /// <summary>
    /// The stand-ins the reads met since the last call (tags a killed cleanup left pointing at a layer-less stand-in,
    /// <see cref="EmptyManifests"/>), with their digests: never counted as stages or dimg tags; deleting them
    /// (<see cref="DeleteStandInAsync"/>) finishes what the killed cleanup started.
    /// </summary>
    public IReadOnlyList<(ImageReference Tag, string Digest)> TakeStandIns()
    {
        var taken = new List<(ImageReference, string)>();
        foreach (var tag in _standIns.Keys.OrderBy(t => t.ToString(), StringComparer.Ordinal))
            if (_standIns.TryRemove(tag, out var digest)) taken.Add((tag, digest));
        return taken;
    }

    public Task DeleteStandInAsync((ImageReference Tag, string Digest) standIn, CancellationToken ct) =>
        DeleteManifestAsync(standIn.Tag.Repository, standIn.Digest, ct);

    public RepositoryName Repository => registry.Repository;

    /// <summary>The repository of a dimg's tags: REPO/&lt;dimg&gt;, or REPO itself for a nameless dimg.</summary>
    public RepositoryName DimgRepository(string? dimg) => dimg is null ? registry.Repository : RepositoryName.Parse($"{registry.Repository}/{dimg}");

    /// <summary>The tags of a repository, listed once per command; a missing repository has none.</summary>
    public Task<IReadOnlyList<string>> TagsAsync(RepositoryName repository, CancellationToken ct) =>
        _tags.GetOrAdd(repository, r => RegistryStagesStorage.ListTagsAsync(registry.Other(r), ct));

    /// <summary>Every <c>dimgstage-*</c> tag of REPO with its manifest and config (claims and upload slots are not stages).</summary>
    public async Task<IReadOnlyList<StoredStage>> StagesAsync(CancellationToken ct)
    {
        var tags = (await TagsAsync(registry.Repository, ct)).Where(t => t.StartsWith(RegistryStagesStorage.TagPrefix, StringComparison.Ordinal));
        var stages = await Task.WhenAll(tags.Select(async tag =>
        {
            if (await ReadAsync(ImageReference.WithTag(registry.Repository, tag), ct) is not { } read) return null;
            var (image, built) = read;
            // Young from the moment it reached the repository (older dapps recorded only the build).
            var created = PublishedStages.PublishedAt(image.Raw) ?? built;
            // Layers by diff ID: the same layer compressed twice (the engine's push, dapp's own upload) is one layer.
            return new StoredStage(tag[RegistryStagesStorage.TagPrefix.Length..], image.Raw.Digest, image.DiffIds,
                image.Manifest.Config.Digest, created, image.Labels, image.Manifest.Layers.Sum(l => l.Size));
        }));
        return stages.OfType<StoredStage>().ToList();
    }

    /// <summary>The dimg tags of the named dimgs (null: the nameless dimg, whose tags are REPO's own besides the stages').</summary>
    public async Task<IReadOnlyList<StoredDimgTag>> DimgTagsAsync(IEnumerable<string?> dimgs, CancellationToken ct)
    {
        var references = new List<(ImageReference Reference, string? Dimg)>();
        foreach (var dimg in dimgs.Distinct())
        {
            var repository = DimgRepository(dimg);
            var tags = await TagsAsync(repository, ct);
            references.AddRange(tags.Where(t => dimg is not null || !RegistryStagesStorage.IsStagesTag(t))
                .Select(t => (ImageReference.WithTag(repository, t), dimg)));
        }
        var read = await Task.WhenAll(references.Select(async r =>
            await ReadAsync(r.Reference, ct) is { } found
                ? new StoredDimgTag(r.Reference, r.Dimg, found.Image.Raw.Digest, found.Image.Labels, found.Created, found.Image.Manifest.Layers.Sum(l => l.Size))
                : null));
        return read.OfType<StoredDimgTag>().ToList();
    }

    /// <summary>The digests the tags name now (one HEAD each, all at once); a tag gone meanwhile is left out.</summary>
    public async Task<IReadOnlyList<(ImageReference Tag, string Digest)>> ResolveAsync(IEnumerable<ImageReference> tags, CancellationToken ct)
    {
        var resolved = await Task.WhenAll(tags.Select(async t => (Tag: t, Head: await registry.Client.HeadManifestAsync(t, ct))));
        return resolved.Where(r => r.Head is not null).Select(r => (r.Tag, r.Head!.Digest)).ToList();
    }

    /// <summary>
    /// Deletes tags: a plain manifest DELETE first, alone (a registry that does not delete says so to one request, and
    /// nothing more is tried), then the rest at once within the client's per-registry limit. A manifest is deleted by digest, which
    /// deletes every tag on it: a digest that a kept tag of the same repository also names is never deleted; such a tag
    /// is first pointed at a layer-less stand-in of its own (<see cref="EmptyManifests"/>), which is then deleted. A
    /// manifest already gone is not an error.
    /// </summary>
    public async Task DeleteAsync(IReadOnlyCollection<(ImageReference Tag, string Digest)> doomed, IEnumerable<(RepositoryName Repository, string Digest)> kept,
        CancellationToken ct)
    {
        var keptDigests = kept.ToHashSet();
        var byDigest = doomed.Where(d => !keptDigests.Contains((d.Tag.Repository, d.Digest))).Select(d => (d.Tag.Repository, d.Digest)).Distinct();
        var alone = doomed.Where(d => keptDigests.Contains((d.Tag.Repository, d.Digest))).Select(d => d.Tag);
        var manifests = byDigest.Select(m => (Func<Task>)(() => DeleteManifestAsync(m.Repository, m.Digest, ct))).ToList();
        // A plain DELETE goes first, alone: a registry that refuses deletes is told by one request, and before any
        // tag is pointed at a stand-in it could then not delete.
        if (manifests.Count > 0) await manifests[0]();
        // Tags deleted alone go one at a time: the registry's DELETE of a stand-in looks through every tag of the
        // repository, and while other tags are being pointed at their stand-ins the reference registry was seen to
        // leave a tag that names no manifest (listed, but not found).
        await Task.WhenAll(manifests.Skip(1).Select(d => d()).Append(DeleteEachAloneAsync(alone, ct)));
    }

    private async Task DeleteEachAloneAsync(IEnumerable<ImageReference> tags, CancellationToken ct)
    {
        foreach (var tag in tags) await DeleteTagAloneAsync(tag, ct);
    }

    private async Task DeleteManifestAsync(RepositoryName repository, string digest, CancellationToken ct)
    {
        try
        {
            await registry.Client.DeleteManifestAsync(repository, digest, ct);
        }
        catch (RegistryException e) when (e.IsNotFound)
        {
        }
        catch (RegistryException e) when (!e.IsTransient)
        {
            throw new DappException($"{repository.Registry} refuses to delete through the registry API ({e.Message}); nothing more was deleted. "
                + "GHCR, Docker Hub and Quay delete only through their own APIs or retention policies, and the reference registry only with "
                + "storage.delete.enabled: see docs/cleanup.md, \"Registries that do not delete\"", e);
        }
    }

    private async Task DeleteTagAloneAsync(ImageReference tag, CancellationToken ct)
    {
        var manifests = _emptyManifests.GetOrAdd(tag.Repository, r => new EmptyManifests(registry.Other(r)));
        await manifests.EnsureConfigAsync(ct);
        var standIn = EmptyManifests.StandIn(tag.Tag!);
        await registry.Client.PutManifestAsync(tag.Repository, tag.Tag!, standIn, ct);
        await DeleteManifestAsync(tag.Repository, standIn.Digest, ct);
    }

    /// <summary>
    /// A tag's manifest and config (2 requests) and the config's <c>created</c>; null when it was deleted meanwhile, or
    /// when it is a stand-in (kept in <see cref="StandIns"/>).
    /// </summary>
    private async Task<(RegistryImage Image, DateTimeOffset? Created)?> ReadAsync(ImageReference reference, CancellationToken ct)
    {
        RegistryImage image;
        try
        {
            image = await RegistryImage.ReadAsync(registry.Client, reference, ct);
        }
        catch (RegistryException e) when (e.IsNotFound)
        {
            return null;
        }
        if (EmptyManifests.IsStandIn(image.Raw))
        {
            _standIns[reference] = image.Raw.Digest;
            return null;
        }
        DateTimeOffset? created = null;
        using (var json = JsonDocument.Parse(image.Config))
            if (json.RootElement.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(c.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                created = parsed;
        return (image, created);
    }
}
