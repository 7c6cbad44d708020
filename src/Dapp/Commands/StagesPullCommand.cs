using Dapp.Transfer;
using Dapp.Registry.Remote;
using Dapp.Registry.Names;
using System.Diagnostics;
using Dapp.Build;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Commands;

/// <summary>
/// <c>dapp dimg stages pull [--all] [DIMG...] REPO</c> (docs/stages-pull.md): for each selected dimg and each image it is
/// built from, the latest stage of its chain that the host lacks and the registry has is pulled and tagged as the
/// local stage (every such stage with <c>--all</c>). Nothing is pulled for a chain whose last stage is local.
/// </summary>
public static class StagesPullCommand
{
    public static async Task<IReadOnlyList<string>> RunAsync(DappProject project, IReadOnlyCollection<string> patterns, RepositoryName repo,
        bool all, bool dryRun, RegistryClientOptions registryOptions, StagesTransferOptions transfers, IReporter reporter, CancellationToken ct)
    {
        var conveyors = Conveyor.WithDependencies(await project.SelectConveyorsAsync(patterns, ct));
        using var registry = await project.OpenRegistryAsync(repo, registryOptions, ct);
        var storage = project.RegistryStages(registry, transfers, reporter);
        await project.PrepareEngineAsync(reporter, ct);

        var clock = Stopwatch.StartNew();
        var local = await project.Stages.ListSignaturesAsync(ct);
        var toPull = new List<string>();
        foreach (var plan in await ChainWalk.PlanAsync(conveyors, local, storage, all, ct))
            foreach (var (stage, source) in plan.Walked)
            {
                var state = source switch { StageSource.Local => StageState.UsingCache, StageSource.Storage => StageState.Pull, _ => StageState.NotExist };
                reporter.Stage(new StageEvent(plan.Conveyor.Image.DisplayName, stage.Name.DappName(), stage.Signature, state));
                if (state == StageState.Pull && !toPull.Contains(stage.Signature)) toPull.Add(stage.Signature);
            }
        if (dryRun)
        {
            reporter.Summary(new TransferSummary(TransferSummary.Pull, toPull.Count, 0, storage.Location, clock.Elapsed, DryRun: true));
            return toPull;
        }

        using (var display = reporter.BeginTransfers("pull", toPull.Count))
            await storage.FetchAsync(toPull, display, ct);
        reporter.Summary(new TransferSummary(TransferSummary.Pull, toPull.Count, storage.Totals.BytesPulled, storage.Location, clock.Elapsed));
        return toPull;
    }
}
