using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Reporting;
using Dapp.Storage;

namespace Dapp.Commands;

/// <summary>The registry part of the flush commands (docs/commands.md): deleting stages and dimg images by digest through the registry API.</summary>
public static class FlushRepoCommands
{
    /// <summary><c>dapp dimg stages flush repo REPO</c>: deletes every <c>dimgstage-*</c> tag of REPO, and the upload slots' tags.</summary>
    public static async Task<int> StagesFlushRepoAsync(DappProject project, string repo, bool dryRun, RegistryOptions registryOptions,
        IReporter reporter, CancellationToken ct)
    {
        using var registry = await registryOptions.OpenAsync(repo, project.Options.Environment, ct);
        return await DeleteTagsAsync(registry.Client, registry.Repository, await StagesTagsAsync(registry, ct), dryRun, reporter, ct);
    }

    /// <summary>The tags of REPO that belong to its stages: <c>dimgstage-*</c>, <c>dapp-upload-*</c> (each naming some stage), <c>dimgclaim-*</c>.</summary>
    private static async Task<IReadOnlyList<string>> StagesTagsAsync(RegistryAccess registry, CancellationToken ct) =>
        (await RegistryStagesStorage.ListTagsAsync(registry.Client, registry.Repository, ct)).Where(RegistryStagesStorage.IsStagesTag).ToList();


    /// <summary><c>dapp dimg flush repo [--with-stages] [DIMG...] REPO</c>: deletes the dimg images of the selected dimgs.</summary>
    public static async Task<int> FlushRepoAsync(DappProject project, IReadOnlyCollection<string> patterns, string repo, bool withStages,
        bool dryRun, RegistryOptions registryOptions, IReporter reporter, CancellationToken ct)
    {
        var dimgs = project.Dappfile.SelectDimgs(patterns);
        using var registry = await registryOptions.OpenAsync(repo, project.Options.Environment, ct);
        int deleted = 0;
        foreach (var dimg in dimgs)
        {
            var repository = dimg.Name is null ? registry.Repository : RepositoryName.Parse($"{repo}/{dimg.Name}");
            var tags = await RegistryStagesStorage.ListTagsAsync(registry.Client, repository, ct);
            var dimgTags = tags.Where(t => !RegistryStagesStorage.IsStagesTag(t)).ToList();
            deleted += await DeleteTagsAsync(registry.Client, repository, dimgTags, dryRun, reporter, ct);
        }
        if (withStages)
            deleted += await DeleteTagsAsync(registry.Client, registry.Repository, await StagesTagsAsync(registry, ct), dryRun, reporter, ct);
        return deleted;
    }

    private static async Task<int> DeleteTagsAsync(RegistryClient client, RepositoryName repository, IReadOnlyList<string> tags, bool dryRun,
        IReporter reporter, CancellationToken ct)
    {
        int deleted = 0;
        foreach (var tag in tags)
        {
            var reference = ImageReference.WithTag(repository, tag);
            // A tag deleted with an earlier one that shared its manifest is already gone.
            if (await client.HeadManifestAsync(reference, ct) is not { } manifest) continue;
            reporter.Info($"{(dryRun ? "would delete" : "delete")} {reference}");
            if (dryRun) continue;
            await client.DeleteManifestAsync(repository, manifest.Digest, ct);
            deleted++;
        }
        return deleted;
    }
}
