using System.Diagnostics;
using Dapp.Reporting;
using Dapp.Stages;

namespace Dapp.Commands;

/// <summary>
/// <c>dapp dimg stages pull [--all] [DIMG...] REPO</c> (reference §9): for each selected dimg and each image it is
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
        await project.Engine.PingAsync(ct);

        var clock = Stopwatch.StartNew();
        var local = await project.LocalStagesAsync(conveyors.SelectMany(c => c.Stages).Select(s => s.Signature), ct);
        var remote = await registry.Stages.HeadAsync(local.Where(l => !l.Value).Select(l => l.Key), ct);

        var toPull = new List<string>();
        foreach (var conveyor in conveyors)
        {
            var decisions = new List<(ConveyorStage Stage, StageState State)>();
            for (int i = conveyor.Stages.Count - 1; i >= 0; i--)
            {
                var stage = conveyor.Stages[i];
                if (local[stage.Signature])
                {
                    decisions.Add((stage, StageState.UsingCache));
                    if (!all) break;
                }
                else if (remote[stage.Signature] is not null)
                {
                    decisions.Add((stage, StageState.Pull));
                    if (!toPull.Contains(stage.Signature)) toPull.Add(stage.Signature);
                    if (!all) break;
                }
                else decisions.Add((stage, StageState.NotExist));
            }
            decisions.Reverse();
            foreach (var (stage, state) in decisions)
                reporter.Stage(new StageEvent(conveyor.Image.DisplayName, stage.Name.DappName(), stage.Signature, state));
        }
        if (dryRun)
        {
            reporter.Info($"would pull {toPull.Count} stage(s) from {registry.Repository}");
            return toPull;
        }

        var totals = new TransferTotals();
        using (var display = reporter.BeginTransfers("pull", toPull.Count))
            await ParallelTransfers.RunAsync(toPull, registryOptions.ParallelTransfers, async (signature, token) =>
        {
            var remoteName = registry.Stages.ImageName(signature);
            var label = "dimgstage-" + signature[..12];
            await project.Engine.PullAsync(remoteName, registry.EngineAuth, token, layers =>
            {
                var (done, total) = layers.Totals;
                display.Update(label, done, total);
                totals.Set(label, done);
            });
            display.Finished(label);
            // The local name is given only once the engine has the whole image.
            await project.Engine.TagAsync(remoteName, project.Stages.ImageName(signature), token);
            await project.Engine.RemoveImageAsync(remoteName, force: false, token);
        }, signature => registry.Stages.ImageName(signature), "stage pulls", ct);
        reporter.Info($"pulled {toPull.Count} stage(s), {TransferTotals.Format(totals.Bytes)}, from {registry.Repository} in {clock.Elapsed.TotalSeconds:0.00} s");
        return toPull;
    }
}
