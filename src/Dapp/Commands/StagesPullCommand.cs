using System.Diagnostics;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Reporting;
using Dapp.Storage;
using Dapp.Stages;

namespace Dapp.Commands;

/// <summary>
/// <c>dapp dimg stages pull [--all] [DIMG...] REPO</c> (docs/stages-pull.md): for each selected dimg and each image it is
/// built from, the latest stage of its chain that the host lacks and the registry has is pulled and tagged as the
/// local stage (every such stage with <c>--all</c>). Nothing is pulled for a chain whose last stage is local.
/// </summary>
public static class StagesPullCommand
{
    public static async Task<IReadOnlyList<string>> RunAsync(DappProject project, IReadOnlyCollection<string> patterns, string repo,
        bool all, bool dryRun, RegistryOptions registryOptions, IReporter reporter, CancellationToken ct)
    {
        var conveyors = DappProject.WithDependencies(await project.SelectConveyorsAsync(patterns, ct));
        using var registry = await RegistryAccess.OpenAsync(repo, registryOptions, project.Options.Environment, ct);
        await project.PrepareEngineAsync(reporter, ct);

        var clock = Stopwatch.StartNew();
        var local = await project.Stages.ListSignaturesAsync(ct);
        var plan = await PlanAsync(conveyors, local, registry, all, ct);
        var toPull = new List<(string Signature, string Digest)>();
        foreach (var (conveyor, decisions) in plan.Decisions)
        {
            foreach (var (stage, state) in decisions)
            {
                reporter.Stage(new StageEvent(conveyor.Image.DisplayName, stage.Name.DappName(), stage.Signature, state));
                if (state == StageState.Pull && toPull.All(p => p.Signature != stage.Signature))
                    toPull.Add((stage.Signature, plan.Remote[stage.Signature]!.Digest));
            }
        }
        if (dryRun)
        {
            reporter.Info($"would pull {toPull.Count} stage(s) from {registry.Repository}");
            return toPull.Select(p => p.Signature).ToList();
        }

        long bytes;
        using (var display = reporter.BeginTransfers("pull", toPull.Count))
        {
            var totals = new TransferTotals(display);
            if (registryOptions.Transfer == PullTransfer.Load)
                await new LoadTransfer(project.Engine, registry.Client).RunAsync(
                    toPull.Select(p => new LoadItem(ImageReference.WithDigest(registry.Repository, p.Digest), project.Stages.ImageName(p.Signature),
                        RegistryStagesStorage.ShortName(p.Signature))).ToList(),
                    registryOptions.ParallelTransfers, totals.Update, ct);
            else
            {
                var transfer = registry.Transfer(project, reporter);
                await ParallelTransfers.RunAsync(toPull, registryOptions.ParallelTransfers, async (item, token) =>
                {
                    var label = RegistryStagesStorage.ShortName(item.Signature);
                    // The local name is given only once the engine has the whole image.
                    await transfer.PullAsync(ImageReference.WithDigest(registry.Repository, item.Digest), project.Stages.ImageName(item.Signature),
                        (done, total) => totals.Update(label, done, total), token);
                    display.Finished(label);
                }, item => registry.Stages.ImageName(item.Signature), "stage pulls", ct);
            }
            bytes = totals.Bytes;
        }
        reporter.Info($"pulled {toPull.Count} stage(s), {TransferTotals.Format(bytes)}, from {registry.Repository} in {clock.Elapsed.TotalSeconds:0.00} s");
        return toPull.Select(p => p.Signature).ToList();
    }

    /// <summary>
    /// Walks each chain from its last stage back: a local stage ends the walk, a stage the registry has is pulled and
    /// ends it (unless <paramref name="all"/>), a missing one moves the walk back. The registry is asked in rounds,
    /// only about the stages the walks reach, all of a round at once, each signature once.
    /// </summary>
    private static async Task<(IReadOnlyList<(Conveyor Conveyor, List<(ConveyorStage Stage, StageState State)> Decisions)> Decisions, IReadOnlyDictionary<string, ManifestInfo?> Remote)> PlanAsync(
        IReadOnlyList<Conveyor> conveyors, IReadOnlySet<string> local, RegistryAccess registry, bool all, CancellationToken ct)
    {
        var remote = new Dictionary<string, ManifestInfo?>();
        if (all)
        {
            var missing = conveyors.SelectMany(c => c.Stages).Select(s => s.Signature).Where(s => !local.Contains(s)).Distinct();
            foreach (var (signature, info) in await registry.Stages.HeadAsync(missing, ct)) remote[signature] = info;
        }
        var walks = conveyors.Select(c => (Conveyor: c, Cursor: c.Stages.Count - 1, Decisions: new List<(ConveyorStage, StageState)>())).ToList();
        while (true)
        {
            var active = walks.Where(w => w.Cursor >= 0).ToList();
            if (active.Count == 0) break;
            var ask = active.Select(w => w.Conveyor.Stages[w.Cursor].Signature).Where(s => !local.Contains(s) && !remote.ContainsKey(s)).Distinct().ToList();
            if (ask.Count > 0)
                foreach (var (signature, info) in await registry.Stages.HeadAsync(ask, ct)) remote[signature] = info;
            for (int i = 0; i < walks.Count; i++)
            {
                var (conveyor, cursor, decisions) = walks[i];
                if (cursor < 0) continue;
                var stage = conveyor.Stages[cursor];
                var state = local.Contains(stage.Signature) ? StageState.UsingCache : remote[stage.Signature] is not null ? StageState.Pull : StageState.NotExist;
                decisions.Add((stage, state));
                walks[i] = (conveyor, state != StageState.NotExist && !all ? -1 : cursor - 1, decisions);
            }
        }
        return (walks.Select(w => { w.Decisions.Reverse(); return (w.Conveyor, w.Decisions); }).ToList(), remote);
    }
}
