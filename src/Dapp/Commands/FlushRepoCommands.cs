using Dapp.Transfer;
using Dapp.Registry.Remote;
using Dapp.Registry.Names;
using Dapp.Reporting;
using Dapp.Storage;
using Dapp.Cleanup;
using Dapp.Engine;

namespace Dapp.Commands;

/// <summary>The registry part of the flush commands (docs/commands.md): deleting stages and dimg images by digest through the registry API.</summary>
public static class FlushRepoCommands
{
    /// <summary><c>dapp dimg stages flush repo REPO</c>: deletes every <c>dimgstage-*</c> tag of REPO, and the upload slots' and claims' tags.</summary>
    public static async Task<int> StagesFlushRepoAsync(DappProject project, RepositoryName repo, bool dryRun, RegistryClientOptions registryOptions,
        IReporter reporter, CancellationToken ct)
    {
        using var registry = await project.OpenRegistryAsync(repo, registryOptions, ct);
        var inventory = new RegistryInventory(registry);
        return await DeleteTagsAsync(inventory, await StagesTagsAsync(inventory, ct), dryRun, reporter, ct);
    }

    /// <summary>
    /// <c>dapp dimg flush repo [--with-stages] [DIMG...] REPO</c>: deletes the dimg images of the selected dimgs, those whose
    /// image says dapp made it as a dimg (label <c>dapp-dimg=true</c>), as dapp did; other images in those repositories
    /// are kept, and so is a manifest they share.
    /// </summary>
    public static async Task<int> FlushRepoAsync(DappProject project, IReadOnlyCollection<string> patterns, RepositoryName repo, bool withStages,
        bool dryRun, RegistryClientOptions registryOptions, IReporter reporter, CancellationToken ct)
    {
        var dimgs = project.Dappfile.SelectDimgs(patterns);
        using var registry = await project.OpenRegistryAsync(repo, registryOptions, ct);
        var inventory = new RegistryInventory(registry);
        var stored = await inventory.DimgTagsAsync(dimgs.Select(d => d.Name), ct);
        await StagesCleanupCommand.FinishInterruptedAsync(inventory, dryRun, reporter, ct);
        var isDimg = stored.ToLookup(t => t.Labels.GetValueOrDefault(DappLabels.Dimg) == "true");
        foreach (var other in isDimg[false])
            reporter.Removal(new RemovalEvent(RemovalAction.Keep, other.Reference.ToString(), $"not a dimg image (its image has no label {DappLabels.Dimg}=true)"));
        var doomed = isDimg[true].Select(t => (t.Reference, t.Digest)).ToList();
        if (withStages) doomed.AddRange(await inventory.ResolveAsync(await StagesTagsAsync(inventory, ct), ct));
        return await DeleteAsync(inventory, doomed, isDimg[false].Select(t => (t.Reference.Repository, t.Digest)), dryRun, reporter, ct);
    }

    /// <summary>The tags of REPO that belong to its stages: <c>dimgstage-*</c>, <c>dapp-upload-*</c> (each naming some stage), <c>dimgclaim-*</c>.</summary>
    private static async Task<IReadOnlyList<ImageReference>> StagesTagsAsync(RegistryInventory inventory, CancellationToken ct) =>
        (await inventory.TagsAsync(inventory.Repository, ct)).Where(RegistryStagesStorage.IsStagesTag).Select(t => ImageReference.WithTag(inventory.Repository, t)).ToList();

    private static async Task<int> DeleteTagsAsync(RegistryInventory inventory, IReadOnlyList<ImageReference> tags, bool dryRun, IReporter reporter, CancellationToken ct) =>
        await DeleteAsync(inventory, await inventory.ResolveAsync(tags, ct), [], dryRun, reporter, ct);

    private static async Task<int> DeleteAsync(RegistryInventory inventory, IReadOnlyList<(ImageReference Tag, string Digest)> doomed,
        IEnumerable<(RepositoryName Repository, string Digest)> kept, bool dryRun, IReporter reporter, CancellationToken ct)
    {
        foreach (var (tag, _) in doomed) reporter.Removal(new RemovalEvent(RemovalEvent.Deleting(dryRun), tag.ToString()));
        if (!dryRun) await inventory.DeleteAsync(doomed, kept, ct);
        return doomed.Count;
    }
}
