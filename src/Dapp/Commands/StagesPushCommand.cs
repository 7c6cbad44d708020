using System.Diagnostics;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Commands;

/// <summary>
/// <c>dapp dimg stages push [DIMG...] REPO</c> (docs/stages-push.md): every stage of the selected dimgs' chains (and of the
/// images they are built from) that is present locally goes to <c>REPO:dimgstage-&lt;signature&gt;</c>, unless the
/// registry has it. Nothing is built. The engine writes a tag only after all its layers are in the registry.
/// </summary>
public static class StagesPushCommand
{
    public static async Task<IReadOnlyList<string>> RunAsync(DappProject project, IReadOnlyCollection<string> patterns, string repo,
        bool dryRun, RegistryOptions registryOptions, IReporter reporter, CancellationToken ct)
    {
        var conveyors = DappProject.WithDependencies(await project.SelectConveyorsAsync(patterns, ct));
        using var registry = await RegistryAccess.OpenAsync(repo, registryOptions, project.Options.Environment, ct);
        await project.PrepareEngineAsync(reporter, ct);
        return await PushAsync(project, conveyors, registry, dryRun, registryOptions, reporter, ct);
    }

    internal static async Task<IReadOnlyList<string>> PushAsync(DappProject project, IReadOnlyList<Conveyor> conveyors,
        RegistryAccess registry, bool dryRun, RegistryOptions registryOptions, IReporter reporter, CancellationToken ct, bool assumeBuilt = false)
    {
        var clock = Stopwatch.StartNew();
        // bp --dry-run: every stage of the chains would be local once the build had run.
        var local = assumeBuilt ? conveyors.SelectMany(c => c.Stages).Select(s => s.Signature).ToHashSet() : await project.Stages.ListSignaturesAsync(ct);
        var remote = await registry.Stages.HeadAsync(conveyors.SelectMany(c => c.Stages).Select(s => s.Signature).Where(local.Contains), ct);

        var toPush = new List<string>();
        foreach (var conveyor in conveyors)
            foreach (var stage in conveyor.Stages.Where(s => local.Contains(s.Signature)))
            {
                var exists = remote[stage.Signature] is not null;
                reporter.Stage(new StageEvent(conveyor.Image.DisplayName, stage.Name.DappName(), stage.Signature, exists ? StageState.Exist : StageState.Push));
                if (!exists && !toPush.Contains(stage.Signature)) toPush.Add(stage.Signature);
            }
        if (dryRun)
        {
            reporter.Info($"would push {toPush.Count} stage(s) to {registry.Repository}");
            return toPush;
        }

        long bytes;
        using (var display = reporter.BeginTransfers("push", toPush.Count))
        {
            var totals = new TransferTotals(display);
            var transfer = registry.Transfer(project, reporter);
            await ParallelTransfers.RunAsync(toPush, registryOptions.ParallelTransfers, async (signature, token) =>
            {
                var label = RegistryStagesStorage.ShortName(signature);
                await transfer.PushAsync(project.Stages.ImageName(signature), registry.Stages.ImageName(signature), (done, total) => totals.Update(label, done, total), token);
                display.Finished(label);
            }, signature => registry.Stages.ImageName(signature), "stage pushes", ct);
            bytes = totals.Bytes;
        }
        reporter.Info($"pushed {toPush.Count} stage(s), {TransferTotals.Format(bytes)}, to {registry.Repository} in {clock.Elapsed.TotalSeconds:0.00} s");
        return toPush;
    }
}
