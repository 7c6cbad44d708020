using Dapp.Registry.Names;
using Dapp.Reporting;
using Dapp.Storage;

namespace Dapp.Commands;

/// <summary>The registry part of the flush commands (docs/commands.md): deleting stages and dimg images by digest through the registry API.</summary>
public static class FlushRepoCommands
{
    /// <summary><c>dapp dimg stages flush repo REPO</c>: deletes every <c>dimgstage-*</c> tag of REPO, and the upload slots' and claims' tags.</summary>
    public static async Task<int> StagesFlushRepoAsync(DappProject project, string repo, bool dryRun, RegistryOptions registryOptions,
        IReporter reporter, CancellationToken ct)
    {
        using var registry = await registryOptions.OpenAsync(repo, project.Options.Environment, ct);
        var inventory = new RegistryInventory(registry);
        return await DeleteTagsAsync(inventory, await StagesTagsAsync(inventory, ct), dryRun, reporter, ct);
    }

    /// <summary><c>dapp dimg flush repo [--with-stages] [DIMG...] REPO</c>: deletes the dimg images of the selected dimgs.</summary>
    public static async Task<int> FlushRepoAsync(DappProject project, IReadOnlyCollection<string> patterns, string repo, bool withStages,
        bool dryRun, RegistryOptions registryOptions, IReporter reporter, CancellationToken ct)
    {
        var dimgs = project.Dappfile.SelectDimgs(patterns);
        using var registry = await registryOptions.OpenAsync(repo, project.Options.Environment, ct);
        var inventory = new RegistryInventory(registry);
        var tags = new List<ImageReference>();
        foreach (var dimg in dimgs)
        {
            var repository = inventory.DimgRepository(dimg.Name);
            tags.AddRange((await inventory.TagsAsync(repository, ct)).Where(t => !RegistryStagesStorage.IsStagesTag(t)).Select(t => ImageReference.WithTag(repository, t)));
        }
        if (withStages) tags.AddRange(await StagesTagsAsync(inventory, ct));
        return await DeleteTagsAsync(inventory, tags, dryRun, reporter, ct);
    }

    /// <summary>The tags of REPO that belong to its stages: <c>dimgstage-*</c>, <c>dapp-upload-*</c> (each naming some stage), <c>dimgclaim-*</c>.</summary>
    private static async Task<IReadOnlyList<ImageReference>> StagesTagsAsync(RegistryInventory inventory, CancellationToken ct) =>
        (await inventory.TagsAsync(inventory.Repository, ct)).Where(RegistryStagesStorage.IsStagesTag).Select(t => ImageReference.WithTag(inventory.Repository, t)).ToList();

    private static async Task<int> DeleteTagsAsync(RegistryInventory inventory, IReadOnlyList<ImageReference> tags, bool dryRun, IReporter reporter, CancellationToken ct)
    {
        var doomed = await inventory.ResolveAsync(tags, ct);
        foreach (var (tag, _) in doomed) reporter.Info($"{(dryRun ? "would delete" : "delete")} {tag}");
        if (!dryRun) await inventory.DeleteAsync(doomed.ToList(), [], ct);
        return doomed.Count;
    }
}
