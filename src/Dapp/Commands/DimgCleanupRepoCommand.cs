using Dapp.Transfer;
using Dapp.Registry.Remote;
using Dapp.Registry.Names;
using Dapp.Reporting;
using Dapp.Storage;
using Dapp.Cleanup;

namespace Dapp.Commands;

public sealed record DimgCleanupOptions
{
    /// <summary>Then clean up REPO's stages: those no remaining dimg tag is built on, and those of another cache version.</summary>
    public bool WithStages { get; init; }

    /// <summary>The stages cleanup's grace period (--with-stages).</summary>
    public TimeSpan KeepYoungerThan { get; init; } = TimeSpan.FromHours(2);

    public bool DryRun { get; init; }
}

/// <summary>
/// <c>dapp dimg cleanup repo [--with-stages] [DIMG...] REPO</c> (docs/cleanup.md): deletes the dimg tags that dapp's
/// git-history policy selects (<see cref="GitHistoryPolicy"/>), then, with --with-stages, the stages that no remaining
/// dimg tag needs. One tag listing per repository for the whole run.
/// </summary>
public static class DimgCleanupRepoCommand
{
    public static async Task<CleanupSummary> RunAsync(DappProject project, IReadOnlyCollection<string> patterns, RepositoryName repo, DimgCleanupOptions options,
        RegistryClientOptions registryOptions, IReporter reporter, CancellationToken ct)
    {
        var git = project.Repository
            ?? throw new DappException("dimg cleanup repo: the work dir is not in a git repository, and the policy judges dimg tags by its branches, tags and commits");
        var limits = GitHistoryLimits.FromEnvironment(project.Options.Environment);
        var selected = project.Dappfile.SelectDimgs(patterns).Select(d => d.Name).ToHashSet();
        using var registry = await project.OpenRegistryAsync(repo, registryOptions, ct);
        var inventory = new RegistryInventory(registry);
        // Every dimg's tags: those of dimgs not selected are kept, and their manifests must survive the deletes.
        var tags = await StagesCleanupCommand.DimgTagsAsync(project, inventory, ct);
        await StagesCleanupCommand.FinishInterruptedAsync(inventory, options.DryRun, reporter, ct);
        var candidates = tags.Where(t => selected.Contains(t.Dimg)).ToList();
        var refs = git.ReadRefs(candidates.Where(t => t.Scheme == "git_commit").Select(t => t.Tag));
        var doomed = GitHistoryPolicy.Select(candidates, refs, limits, DateTimeOffset.UtcNow);

        var now = DateTimeOffset.UtcNow;
        foreach (var (tag, why) in doomed)
            reporter.Removal(new RemovalEvent(RemovalEvent.Deleting(options.DryRun), tag.Reference.ToString(), why
                + (tag.Created is { } created && !why.Contains(" ago", StringComparison.Ordinal) ? $"; built {StagesCleanupCommand.Age(now - created)} ago" : "")));
        var remaining = tags.Except(doomed.Select(d => d.Tag)).ToList();
        if (!options.DryRun)
            await inventory.DeleteAsync(doomed.Select(d => (d.Tag.Reference, d.Tag.Digest)).ToList(),
                remaining.Select(t => (t.Reference.Repository, t.Digest)), ct);
        var summary = new CleanupSummary(doomed.Count, candidates.Count - doomed.Count, doomed.Sum(d => d.Tag.Bytes));
        reporter.Info($"{(options.DryRun ? "would delete" : "deleted")} {summary.Deleted} of {candidates.Count} dimg tag(s) in {inventory.Repository} "
            + $"({TransferTotals.Format(summary.Bytes)} of layers referenced); kept {summary.Kept}");
        if (!options.WithStages) return summary;

        var stages = await StagesCleanupCommand.RepoAsync(project, inventory, remaining, new StagesCleanupOptions
        {
            ImproperRepoCache = true,
            ImproperCacheVersion = true,
            KeepYoungerThan = options.KeepYoungerThan,
            DryRun = options.DryRun,
        }, reporter, ct);
        return new CleanupSummary(summary.Deleted + stages.Deleted, summary.Kept + stages.Kept, summary.Bytes + stages.Bytes);
    }
}
