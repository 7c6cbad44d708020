using Dapp.Registry.Remote;
using Dapp.Registry.Names;
using System.Diagnostics;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;
using Dapp.Transfer;

namespace Dapp.Commands;

/// <summary>
/// <c>dapp dimg stages push [DIMG...] REPO</c> (docs/stages-push.md): every stage of the selected dimgs' chains (and of the
/// images they are built from) that is present locally goes to <c>REPO:dimgstage-&lt;signature&gt;</c>, unless the
/// registry has it. Nothing is built. The engine writes a tag only after all its layers are in the registry.
/// </summary>
public static class StagesPushCommand
{
    public static async Task<IReadOnlyList<string>> RunAsync(DappProject project, IReadOnlyCollection<string> patterns, RepositoryName repo,
        bool dryRun, RegistryClientOptions registryOptions, StagesTransferOptions transfers, IReporter reporter, CancellationToken ct)
    {
        var conveyors = Conveyor.WithDependencies(await project.SelectConveyorsAsync(patterns, ct));
        using var registry = await project.OpenRegistryAsync(repo, registryOptions, ct);
        await project.PrepareEngineAsync(reporter, ct);
        return await PushAsync(project, conveyors, project.RegistryStages(registry, transfers, reporter), dryRun, transfers.Parallel, reporter, ct);
    }

    internal static async Task<IReadOnlyList<string>> PushAsync(DappProject project, IReadOnlyList<Conveyor> conveyors,
        RegistryStagesStorage storage, bool dryRun, int parallel, IReporter reporter, CancellationToken ct, bool assumeBuilt = false)
    {
        var clock = Stopwatch.StartNew();
        var signatures = conveyors.SelectMany(c => c.Stages).Select(s => s.Signature).ToHashSet();
        // bp --dry-run: every stage of the chains would be local once the build had run.
        var local = assumeBuilt ? signatures : await project.Stages.LookUpAsync(signatures, ct);
        var remote = await storage.LookUpAsync(local.ToList(), ct);

        var toPush = new List<string>();
        foreach (var conveyor in conveyors)
            foreach (var stage in conveyor.Stages.Where(s => local.Contains(s.Signature)))
            {
                var exists = remote.Contains(stage.Signature);
                reporter.Stage(new StageEvent(conveyor.Image.DisplayName, stage.Name.DappName(), stage.Signature, exists ? StageState.Exist : StageState.Push));
                if (!exists && !toPush.Contains(stage.Signature)) toPush.Add(stage.Signature);
            }
        if (dryRun)
        {
            reporter.Summary(new TransferSummary(TransferSummary.Push, toPush.Count, 0, storage.Location, clock.Elapsed, DryRun: true));
            return toPush;
        }

        // A stage goes only on the registry's copy of its parent: after its parent when that is pushed too.
        var parents = new Dictionary<string, string>();
        foreach (var conveyor in conveyors)
            for (int i = 0; i < conveyor.Stages.Count; i++)
                if (conveyor.ParentSignature(i) is { } parent && (local.Contains(parent) || remote.Contains(parent)))
                    parents.TryAdd(conveyor.Stages[i].Signature, parent);
        var ended = toPush.ToDictionary(s => s, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var notOnParent = new List<string>();
        var before = storage.Totals;
        using (var display = reporter.BeginTransfers("push", toPush.Count))
            await ParallelTransfers.RunAsync(toPush, parallel, async (signature, token) =>
                {
                    try
                    {
                        if (await storage.PublishAsync(signature, parents.GetValueOrDefault(signature), display, token) == PublishResult.NotOnStoredParent)
                            lock (notOnParent) notOnParent.Add(signature);
                    }
                    finally
                    {
                        ended[signature].SetResult();
                    }
                },
                storage.ImageName, "stage pushes", ct,
                after: signature => parents.TryGetValue(signature, out var parent) && ended.TryGetValue(parent, out var done) ? done.Task : Task.CompletedTask);
        foreach (var signature in toPush.Where(notOnParent.Contains))
            reporter.Warning($"{storage.ImageName(signature)} was not pushed: this engine built it on another copy of its parent stage than the one in {storage.Location} "
                + $"(another host published its own first); dapp dimg build --stages-storage {storage.Location} builds it on that copy");
        // A stage another process published since the lookup was left as it was.
        var after = storage.Totals;
        reporter.Summary(new TransferSummary(TransferSummary.Push, after.StagesPushed - before.StagesPushed, after.BytesPushed - before.BytesPushed, storage.Location, clock.Elapsed));
        return toPush;
    }
}
