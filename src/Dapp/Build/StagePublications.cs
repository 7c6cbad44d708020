using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Build;

/// <summary>What became of a stage sent to the stages storage.</summary>
internal enum PublishOutcome
{
    /// <summary>Ours is there now.</summary>
    Published,
    /// <summary>It was there already, as the very image this engine has.</summary>
    Present,
    /// <summary>Another build's copy was published first: theirs is kept, and the local image is not it.</summary>
    Lost,
    /// <summary>Not published: built on another copy of its parent than the one published.</summary>
    Diverged,
}

/// <summary>
/// The publication pipeline of distributed mode (docs/distributed.md): each stage a build makes or finds goes to the
/// stages storage in the background while the next one builds, after its parent when that is being published too,
/// and only if it was built on the storage's copy of its parent. What became of each is kept; once the chains are
/// built, <see cref="ReconcileAsync"/> has what lost or diverged built again on the published copies.
/// </summary>
internal sealed class StagePublications(IStagesStorage storage, ILocalStages local, IReporter reporter)
{
    /// <summary>Chains building at once publish at once: the map is read and written under the lock.</summary>
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Task<PublishOutcome>> _publishing = new();

    public bool Contains(string signature)
    {
        lock (_lock) return _publishing.ContainsKey(signature);
    }

    /// <summary>The outcome of the stage's publication; null when it was never sent.</summary>
    public async Task<PublishOutcome?> OutcomeAsync(string signature) => Publishing(signature) is { } publishing ? await publishing : null;

    private Task<PublishOutcome>? Publishing(string signature)
    {
        lock (_lock) return _publishing.GetValueOrDefault(signature);
    }

    /// <summary>The stage is the storage's copy locally now (synced after a lost race).</summary>
    public void MarkPresent(string signature)
    {
        lock (_lock) _publishing[signature] = Task.FromResult(PublishOutcome.Present);
    }

    /// <summary>The stage is to be built again: its publication is forgotten.</summary>
    public void Forget(string signature)
    {
        lock (_lock) _publishing.Remove(signature);
    }

    private Task<PublishOutcome>[] All()
    {
        lock (_lock) return _publishing.Values.ToArray();
    }

    /// <summary>Every publication sent, ended (failed ones included).</summary>
    public Task SettledAsync() => Task.WhenAll(All().Select(async publishing =>
    {
        try
        {
            await publishing;
        }
        catch (Exception)
        {
            // Thrown by AllAsync.
        }
    }));

    /// <summary>Every publication sent, succeeded (the first failure thrown).</summary>
    public Task AllAsync() => Task.WhenAll(All());

    /// <summary>
    /// Publishes a stage in the background, after its parent when that is being published too, and only if it was
    /// built on the storage's copy of its parent (<paramref name="checkParent"/>). A stage the storage has is left
    /// alone: for one this process built, another host's copy published meanwhile is kept (<c>[EXIST]</c>); a local
    /// stage found is published only if missing (<c>[PUSH]</c>). The claim, if any, is released once it is done.
    /// </summary>
    public void Publish(Conveyor conveyor, int index, bool built, CancellationToken ct, IClaimHold? claim = null, bool checkParent = true)
    {
        var stage = conveyor.Stages[index];
        var parent = conveyor.ParentSignature(index);
        lock (_lock)
        {
            if (_publishing.ContainsKey(stage.Signature)) return;
            var after = parent is not null && _publishing.TryGetValue(parent, out var p) ? p : Task.FromResult(PublishOutcome.Present);
            _publishing[stage.Signature] = PublishAfterAsync(after, conveyor, stage, checkParent ? parent : null, built, claim, ct);
        }
    }

    /// <summary>
    /// A local stage found that the storage lacks is published after its ancestors that this engine has and the
    /// storage lacks, each on its parent; the lowest of them is checked against its parent only when the storage has it.
    /// </summary>
    public async Task PublishFoundAsync(Conveyor conveyor, int index, CancellationToken ct)
    {
        var stages = conveyor.Stages;
        async Task<bool> InStorageAsync(int i) => (await storage.LookUpAsync([stages[i].Signature], ct)).Contains(stages[i].Signature);
        if (await InStorageAsync(index))
        {
            Publish(conveyor, index, built: false, ct);
            return;
        }
        var lowest = index;
        var parentStored = true;
        while (lowest > 0 && !Contains(stages[lowest - 1].Signature))
        {
            if (await InStorageAsync(lowest - 1)) break;
            if (!await local.ExistsAsync(stages[lowest - 1].Signature, ct))
            {
                // Neither here nor there (removed since it was built): nothing to check the lowest against.
                parentStored = false;
                break;
            }
            lowest--;
        }
        for (int i = lowest; i <= index; i++) Publish(conveyor, i, built: false, ct, checkParent: i > lowest || parentStored);
    }

    /// <summary>
    /// Every stage in the storage is built on the storage's copy of its parent. A stage whose copy lost the race to
    /// publish (another host's or another job's, build outputs are not reproducible) gives way to the published copy
    /// locally, and the stages built on it here are not published (<see cref="PublishOutcome.Diverged"/>): they are
    /// built again on the published copy (<paramref name="buildAgain"/>), each stage whose local image passes the check used as it is.
    /// </summary>
    public async Task ReconcileAsync(Conveyor conveyor, Func<int, CancellationToken, Task> buildAgain, CancellationToken ct)
    {
        var stages = conveyor.Stages;
        for (int round = 0; ; round++)
        {
            var outcomes = new List<PublishOutcome?>();
            foreach (var stage in stages) outcomes.Add(await OutcomeAsync(stage.Signature));
            var bad = outcomes.FindIndex(o => o is PublishOutcome.Lost or PublishOutcome.Diverged);
            if (bad < 0) return;
            var lost = outcomes[bad] == PublishOutcome.Lost;
            if (round == 3)
                throw new DappException($"{conveyor.Image.DisplayName}: stage {stages[bad].Name.DappName()} could not be published on the copy of its parent in {storage.Location}: other builds kept publishing other copies first (3 attempts)");
            // The stage the rest is built on again: the published copy of the one that lost, or of the diverged one's parent.
            var anchor = lost ? stages[bad].Signature : conveyor.ParentSignature(bad);
            if (anchor is not null) await storage.SyncLocalCopyAsync(anchor, NoTransferDisplay.Instance, ct);
            if (lost)
            {
                MarkPresent(stages[bad].Signature);
                if (bad == stages.Count - 1) return;
                reporter.Warning($"{conveyor.Image.DisplayName}: another build published stage {stages[bad].Name.DappName()} first: building the stages after it again, on the published copy");
            }
            else
                reporter.Warning($"{conveyor.Image.DisplayName}: stage {stages[bad].Name.DappName()} was built on another copy of its parent than the one in {storage.Location}: building it and the stages after it again, on that copy");
            var from = lost ? bad + 1 : bad;
            for (int i = from; i < stages.Count; i++) Forget(stages[i].Signature);
            for (int i = from; i < stages.Count; i++) await buildAgain(i, ct);
        }
    }

    private async Task<PublishOutcome> PublishAfterAsync(Task<PublishOutcome> parentPublished, Conveyor conveyor, ConveyorStage stage, string? parent, bool built,
        IClaimHold? claim, CancellationToken ct)
    {
        // Started under the map's lock: nothing of the publication runs there.
        await Task.Yield();
        try
        {
            await parentPublished;
            // Publications run beside the builds: their progress would interleave with build output, so only results are shown.
            var result = await storage.PublishAsync(stage.Signature, parent, NoTransferDisplay.Instance, ct);
            if (result == PublishResult.Published && !built) reporter.Stage(new StageEvent(conveyor.Image.DisplayName, stage.Name.DappName(), stage.Signature, StageState.Push));
            if (result is PublishResult.AlreadyThere or PublishResult.OtherCopyThere && built)
                reporter.Stage(new StageEvent(conveyor.Image.DisplayName, stage.Name.DappName(), stage.Signature, StageState.Exist));
            return result switch
            {
                PublishResult.Published => PublishOutcome.Published,
                PublishResult.AlreadyThere => PublishOutcome.Present,
                PublishResult.OtherCopyThere => PublishOutcome.Lost,
                _ => PublishOutcome.Diverged,
            };
        }
        finally
        {
            if (claim is not null) await claim.DisposeAsync();
        }
    }
}
