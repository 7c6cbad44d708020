using Dapp.Transfer;
using Dapp.Registry.Remote;
using System.Globalization;
using Dapp.Registry.Names;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;
using Dapp.Cleanup;
using Dapp.Engine;

namespace Dapp.Commands;

public sealed record StagesCleanupOptions
{
    public bool ImproperRepoCache { get; init; }
    public bool ImproperCacheVersion { get; init; }
    public bool ImproperGitCommit { get; init; }

    /// <summary>Stages younger than this are never deleted: a build in flight keeps the stages it just pushed.</summary>
    public TimeSpan KeepYoungerThan { get; init; } = TimeSpan.FromHours(2);

    public bool DryRun { get; init; }

    public void EnsurePolicy(string command)
    {
        if (!ImproperRepoCache && !ImproperCacheVersion && !ImproperGitCommit)
            throw new DappException($"{command}: say what to delete: --improper-repo-cache, --improper-cache-version and/or --improper-git-commit");
    }
}

/// <summary>What a cleanup did (or, with --dry-run, would do).</summary>
public sealed record CleanupSummary(int Deleted, int Kept, long Bytes);

/// <summary>
/// <c>dapp dimg stages cleanup repo|local</c> (docs/cleanup.md): deletes the stages that the policies select, except those
/// younger than the grace period, those whose manifest a kept tag shares (repo) and those a container uses (local).
/// </summary>
public static class StagesCleanupCommand
{
    private static readonly string OurCacheVersion = SignatureBuilder.SchemaVersion.ToString(CultureInfo.InvariantCulture);

    public static async Task<CleanupSummary> RepoAsync(DappProject project, RepositoryName repo, StagesCleanupOptions options, RegistryClientOptions registryOptions,
        IReporter reporter, CancellationToken ct)
    {
        options.EnsurePolicy("stages cleanup repo");
        using var registry = await project.OpenRegistryAsync(repo, registryOptions, ct);
        var inventory = new RegistryInventory(registry);
        return await RepoAsync(project, inventory, await DimgTagsAsync(project, inventory, ct), options, reporter, ct);
    }

    /// <summary>The project's dimg tags in REPO: those of REPO/&lt;dimg&gt; for each dimg of the dappfile, REPO's own for a nameless one.</summary>
    internal static Task<IReadOnlyList<StoredDimgTag>> DimgTagsAsync(DappProject project, RegistryInventory inventory, CancellationToken ct) =>
        inventory.DimgTagsAsync(project.Dappfile.Dimgs.Select(d => d.Name), ct);

    /// <summary>
    /// Deletes the stand-ins the inventory met (a cleanup killed between pointing a tag at its stand-in and deleting it
    /// leaves one, which <c>docker pull</c> cannot use): a rerun finishes what the killed run started.
    /// </summary>
    internal static async Task FinishInterruptedAsync(RegistryInventory inventory, bool dryRun, IReporter reporter, CancellationToken ct)
    {
        foreach (var standIn in inventory.TakeStandIns())
        {
            reporter.Removal(new RemovalEvent(RemovalEvent.Deleting(dryRun), standIn.Tag.ToString(), "a stand-in left by an interrupted cleanup", "stand-in"));
            if (!dryRun) await inventory.DeleteStandInAsync(standIn, ct);
        }
    }

    private static IReadOnlySet<string> KeepSet(IReadOnlyList<StoredStage> stages, IEnumerable<StoredDimgTag> dimgTags) =>
        StagesKeepSet.Compute(stages, dimgTags.Select(d => d.StageSignature).OfType<string>());

    /// <summary>
    /// Why a stage goes and how old it is; null when no policy selects it, or when it is younger than the grace period
    /// (then it is named with the policy that would have deleted it).
    /// </summary>
    private static (string Why, TimeSpan Age)? Judge(StagePolicies policies, string name, string signature, IReadOnlyDictionary<string, string> labels,
        DateTimeOffset? created, StagesCleanupOptions options, DateTimeOffset now, IReporter reporter)
    {
        if (policies.WhyDelete(signature, labels) is not { } why) return null;
        if (created is not { } c || now - c < options.KeepYoungerThan)
        {
            reporter.Removal(new RemovalEvent(RemovalAction.Keep, name, $"{why}, but younger than {Seconds(options.KeepYoungerThan)} (--keep-younger-than)"));
            return null;
        }
        return (why, now - c);
    }

    /// <summary>The repo cleanup on an inventory a caller has read already (dimg cleanup repo --with-stages: one listing per run).</summary>
    internal static async Task<CleanupSummary> RepoAsync(DappProject project, RegistryInventory inventory, IReadOnlyList<StoredDimgTag> dimgTags,
        StagesCleanupOptions options, IReporter reporter, CancellationToken ct)
    {
        var stages = await inventory.StagesAsync(ct);
        await FinishInterruptedAsync(inventory, options.DryRun, reporter, ct);
        var policies = await PoliciesAsync(project, options, () => Task.FromResult(KeepSet(stages, dimgTags)), ct);
        var now = DateTimeOffset.UtcNow;
        var delete = new List<(StoredStage Stage, ImageReference Tag, string Why)>();
        foreach (var stage in stages)
        {
            var tag = ImageReference.WithTag(inventory.Repository, RegistryStagesStorage.Tag(stage.Signature));
            if (Judge(policies, tag.ToString(), stage.Signature, stage.Labels, stage.Created, options, now, reporter) is { } doomed)
                delete.Add((stage, tag, $"{doomed.Why}; built {Age(doomed.Age)} ago"));
        }

        foreach (var (_, tag, why) in delete)
            reporter.Removal(new RemovalEvent(RemovalEvent.Deleting(options.DryRun), tag.ToString(), why));
        var deleting = delete.Select(d => d.Stage).ToList();
        // The scratch tags older dapps had the engine push stages under: tags nobody asked for.
        var scratch = await inventory.ResolveAsync((await inventory.TagsAsync(inventory.Repository, ct))
            .Where(t => t.StartsWith(RegistryStagesStorage.UploadTagPrefix, StringComparison.Ordinal))
            .Select(t => ImageReference.WithTag(inventory.Repository, t)), ct);
        foreach (var (tag, _) in scratch)
            reporter.Removal(new RemovalEvent(RemovalEvent.Deleting(options.DryRun), tag.ToString(), "a scratch tag an older dapp pushed stages under", "scratch tag"));
        if (!options.DryRun)
            await inventory.DeleteAsync(delete.Select(d => (d.Tag, d.Stage.Digest)).Concat(scratch).ToList(),
                stages.Except(deleting).Select(s => (inventory.Repository, s.Digest)).Concat(dimgTags.Select(d => (d.Reference.Repository, d.Digest))),
                ct);
        var summary = new CleanupSummary(deleting.Count, stages.Count - deleting.Count, deleting.Sum(s => s.Bytes));
        reporter.Info($"{(options.DryRun ? "would delete" : "deleted")} {summary.Deleted} of {stages.Count} stage(s) in {inventory.Repository} "
            + $"({TransferTotals.Format(summary.Bytes)} of layers referenced); kept {summary.Kept}");
        return summary;
    }

    /// <summary>
    /// The same policies for this host's stage images. <c>--improper-repo-cache</c> keeps what REPO's cleanup keeps;
    /// <c>DAPP_STAGES_CLEANUP_LOCAL_DISABLED_DATE_POLICY</c> turns the grace period off, as in dapp.
    /// </summary>
    public static async Task<CleanupSummary> LocalAsync(DappProject project, RepositoryName? repo, StagesCleanupOptions options, RegistryClientOptions registryOptions,
        IReporter reporter, CancellationToken ct)
    {
        options.EnsurePolicy("stages cleanup local");
        if (options.ImproperRepoCache && repo is null)
            throw new DappException("stages cleanup local --improper-repo-cache: give the REPO whose dimg tags say which stages to keep");
        if (!string.IsNullOrEmpty(project.Options.Environment("DAPP_STAGES_CLEANUP_LOCAL_DISABLED_DATE_POLICY")))
            options = options with { KeepYoungerThan = TimeSpan.Zero };
        await project.PrepareEngineAsync(reporter, ct);
        var policies = await PoliciesAsync(project, options, async () =>
        {
            using var registry = await project.OpenRegistryAsync(repo!, registryOptions, ct);
            var inventory = new RegistryInventory(registry);
            return KeepSet(await inventory.StagesAsync(ct), await DimgTagsAsync(project, inventory, ct));
        }, ct);
        var stages = await project.Stages.StagesAsync(ct);
        var inUse = await project.Stages.ImagesInUseAsync(ct);
        var now = DateTimeOffset.UtcNow;
        int removed = 0;
        long bytes = 0;
        foreach (var stage in stages)
        {
            var name = project.Stages.ImageName(stage.Signature);
            if (Judge(policies, name, stage.Signature, stage.Labels, stage.Created, options, now, reporter) is not { } doomed) continue;
            if (inUse.Contains(stage.ImageId))
            {
                reporter.Removal(new RemovalEvent(RemovalAction.Keep, name, $"{doomed.Why}, but a container uses it"));
                continue;
            }
            reporter.Removal(new RemovalEvent(RemovalEvent.Removing(options.DryRun), name, $"{doomed.Why}; built {Age(doomed.Age)} ago"));
            if (!options.DryRun) await project.Stages.RemoveAsync(stage.Signature, ct);
            removed++;
            bytes += stage.Size;
        }
        var summary = new CleanupSummary(removed, stages.Count - removed, bytes);
        reporter.Info($"{(options.DryRun ? "would remove" : "removed")} {removed} of {stages.Count} local stage(s) of {project.Name} "
            + $"({TransferTotals.Format(bytes)} of images, shared layers counted in each); kept {summary.Kept}");
        return summary;
    }

    private static async Task<StagePolicies> PoliciesAsync(DappProject project, StagesCleanupOptions options,
        Func<Task<IReadOnlySet<string>>> keepSet, CancellationToken ct)
    {
        var keep = options.ImproperRepoCache ? await keepSet() : null;
        IReadOnlyList<Git.GitPath> gitPaths = [];
        if (options.ImproperGitCommit)
            gitPaths = Conveyor.WithDependencies(await project.SelectConveyorsAsync([], ct)).SelectMany(c => c.GitPaths).ToList();
        return new StagePolicies(options.ImproperCacheVersion ? OurCacheVersion : null, keep, gitPaths);
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0} s";

    internal static string Age(TimeSpan age) => age.TotalHours >= 48 ? $"{age.TotalDays:0} d" : age.TotalMinutes >= 120 ? $"{age.TotalHours:0} h" : $"{age.TotalSeconds:0} s";
}

/// <summary>
/// Why a stage goes (docs/cleanup.md), or null when it stays: another cache version than <paramref name="cacheVersion"/>
/// (when given), a recorded git commit that no longer exists in a git path's repository, or no dimg tag built on it
/// (when a keep set is given). Labels of git paths the dappfile no longer has cannot be checked and do not count.
/// </summary>
internal sealed class StagePolicies(string? cacheVersion, IReadOnlySet<string>? keep, IReadOnlyList<Git.GitPath> gitPaths)
{
    public string? WhyDelete(string signature, IReadOnlyDictionary<string, string> labels)
    {
        if (cacheVersion is not null && labels.GetValueOrDefault(DappLabels.CacheVersion) is { } version && version != cacheVersion)
            return $"cache version {version}, not {cacheVersion}";
        foreach (var path in gitPaths)
            if (path.VanishedCommit(labels) is { } vanished)
                return $"it {vanished}";
        if (keep is not null && !keep.Contains(signature))
            return "no dimg tag of REPO is built on it";
        return null;
    }
}
