using System.Globalization;
using System.Text.Json;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Reporting;
using Dapp.Storage;

namespace Dapp.Commands;

public sealed record StagesCleanupOptions
{
    public bool ImproperRepoCache { get; init; }
    public bool ImproperCacheVersion { get; init; }

    /// <summary>Stages younger than this are never deleted: a build in flight keeps the stages it just pushed.</summary>
    public TimeSpan KeepYoungerThan { get; init; } = TimeSpan.FromHours(2);

    public bool DryRun { get; init; }
}

/// <summary>
/// <c>dapp dimg stages cleanup repo [--improper-repo-cache] [--improper-cache-version] [--keep-younger-than D] REPO</c>
/// (docs/cleanup.md): deletes the stage tags of REPO that no dimg tag needs, or of another cache version, except those
/// younger than the grace period and those whose manifest a kept tag shares. One tag listing per repository.
/// </summary>
public static class StagesCleanupCommand
{
    public static async Task<int> RepoAsync(DappProject project, string repo, StagesCleanupOptions options, RegistryOptions registryOptions,
        IReporter reporter, CancellationToken ct)
    {
        if (!options.ImproperRepoCache && !options.ImproperCacheVersion)
            throw new DappException("stages cleanup repo: say what to delete: --improper-repo-cache and/or --improper-cache-version");
        using var registry = await registryOptions.OpenAsync(repo, project.Options.Environment, ct);
        var client = registry.Client;
        var tags = await RegistryStagesStorage.ListTagsAsync(client, registry.Repository, ct);
        var stageTags = tags.Where(t => t.StartsWith(RegistryStagesStorage.TagPrefix, StringComparison.Ordinal)).ToList();
        var stages = (await Task.WhenAll(stageTags.Select(t => ReadStageAsync(client, registry.Repository, t, ct)))).OfType<StoredStage>().ToList();

        // The dimg tags: REPO/<dimg> for each dimg of the dappfile, REPO itself for a nameless one.
        var dimgTags = new List<(ImageReference Reference, string Digest, string? Signature)>();
        foreach (var dimg in project.Dappfile.Dimgs)
        {
            var repository = dimg.Name is null ? registry.Repository : RepositoryName.Parse($"{repo}/{dimg.Name}");
            var names = dimg.Name is null ? tags.Where(t => !RegistryStagesStorage.IsStagesTag(t)).ToList() : await RegistryStagesStorage.ListTagsAsync(client, repository, ct);
            foreach (var name in names)
            {
                var reference = ImageReference.WithTag(repository, name);
                try
                {
                    var image = await RegistryImage.ReadAsync(client, reference, ct);
                    dimgTags.Add((reference, image.Raw.Digest, image.Labels.GetValueOrDefault(DappLabels.StageSignature)));
                }
                catch (RegistryException e) when (e.IsNotFound)
                {
                }
            }
        }

        var keep = options.ImproperRepoCache
            ? StagesKeepSet.Compute(stages, dimgTags.Select(d => d.Signature).OfType<string>())
            : stages.Select(s => s.Signature).ToHashSet();
        var now = DateTimeOffset.UtcNow;
        var cacheVersion = Stages.SignatureBuilder.SchemaVersion.ToString(CultureInfo.InvariantCulture);
        var delete = new List<(StoredStage Stage, string Why)>();
        foreach (var stage in stages)
        {
            string? why = null;
            if (options.ImproperCacheVersion && stage.Labels.GetValueOrDefault(DappLabels.CacheVersion) is { } version && version != cacheVersion)
                why = $"cache version {version}, not {cacheVersion}";
            else if (!keep.Contains(stage.Signature))
                why = "no dimg tag of REPO is built on it";
            if (why is null) continue;
            if (stage.Created is not { } created || now - created < options.KeepYoungerThan)
            {
                reporter.Info($"keep {registry.Repository}:{RegistryStagesStorage.Tag(stage.Signature)}: {why}, but younger than {options.KeepYoungerThan.TotalSeconds:0} s (--keep-younger-than)");
                continue;
            }
            delete.Add((stage, $"{why}; built {Age(now - created)} ago"));
        }

        // A digest deletes every tag on it: one that a kept tag also names stays.
        var kept = stages.Where(s => delete.All(d => d.Stage != s)).Select(s => s.Digest).Concat(dimgTags.Select(d => d.Digest)).ToHashSet();
        int deleted = 0;
        long bytes = 0;
        foreach (var (stage, why) in delete)
        {
            var tag = $"{registry.Repository}:{RegistryStagesStorage.Tag(stage.Signature)}";
            if (kept.Contains(stage.Digest))
            {
                reporter.Info($"keep {tag}: {why}, but its manifest is also another kept tag's");
                continue;
            }
            reporter.Info($"{(options.DryRun ? "would delete" : "delete")} {tag}: {why}");
            if (!options.DryRun) await client.DeleteManifestAsync(registry.Repository, stage.Digest, ct);
            deleted++;
            bytes += stage.Bytes;
        }
        reporter.Info($"{(options.DryRun ? "would delete" : "deleted")} {deleted} of {stages.Count} stage(s) in {registry.Repository} ({TransferTotals.Format(bytes)} of layers referenced); kept {stages.Count - deleted}");
        return deleted;
    }

    private static string Age(TimeSpan age) => age.TotalHours >= 48 ? $"{age.TotalDays:0} d" : age.TotalMinutes >= 120 ? $"{age.TotalHours:0} h" : $"{age.TotalSeconds:0} s";



    /// <summary>A stage's manifest and config (2 requests); null when it was deleted meanwhile.</summary>
    private static async Task<StoredStage?> ReadStageAsync(RegistryClient client, RepositoryName repository, string tag, CancellationToken ct)
    {
        RegistryImage image;
        try
        {
            image = await RegistryImage.ReadAsync(client, ImageReference.WithTag(repository, tag), ct);
        }
        catch (RegistryException e) when (e.IsNotFound)
        {
            return null;
        }
        DateTimeOffset? created = null;
        using (var json = JsonDocument.Parse(image.Config))
            if (json.RootElement.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(c.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                created = parsed;
        return new StoredStage(tag[RegistryStagesStorage.TagPrefix.Length..], image.Raw.Digest, image.Manifest.Layers.Select(l => l.Digest).ToList(),
            image.Manifest.Config.Digest, created, image.Labels, image.Manifest.Layers.Sum(l => l.Size));
    }
}
