using System.Collections.Concurrent;
using Dapp.Engine;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;
using Dapp.Transfer;

namespace Dapp.Build;

/// <summary>
/// Walks conveyors: reports each stage as cached, not present or to build, builds what is missing from the latest
/// present stage on (each stage tagged as soon as it is built), and builds the conveyors it depends on only when a
/// stage that needs them has to be built.
/// <para>
/// Chains that do not depend on each other build at once, up to --jobs (<see cref="ChainJobs"/>): a chain starts the
/// chains its stages to build need as soon as it knows which stages those are, and waits for one only at the stage
/// that needs it.
/// </para>
/// <para>
/// With a stages storage (distributed mode, docs/distributed.md) the stages present are those of the local engine
/// and of the storage, found by <see cref="ChainWalk"/>: only a stage that a build needs locally (the one the first
/// missing stage builds on, an imported artifact, a fromDimg base) is fetched, and each new stage is published as soon
/// as it is committed, after its parent, while the next one builds.
/// </para>
/// </summary>
internal sealed class ConveyorBuilder
{
    private readonly IBaseImages _baseImages;
    private readonly ILocalStages _local;
    private readonly IStagesStorage? _storage;
    private readonly BuildOptions _options;
    private readonly IReporter _reporter;
    private readonly IStageBuilder _stageBuilder;
    private readonly RebuildReasons? _reasons;
    private readonly IHostLocks _locks;
    private readonly TimeProvider _time;
    private readonly ChainJobs _jobs;
    private readonly ConcurrentDictionary<Conveyor, ChainPlan> _plans = new(ReferenceEqualityComparer.Instance);
    private readonly StagePublications? _publications;
    /// <summary>Claims on stages in REPO, taken or waited for before a stage is built; null without claims.</summary>
    private readonly ClaimWaits? _claimWaits;
    /// <summary>Dependencies whose found stage has not been read yet (<see cref="AnyImpostorAsync"/>), and what the engine had when the walk ran.</summary>
    private readonly ConcurrentDictionary<Conveyor, bool> _unread = new(ReferenceEqualityComparer.Instance);
    /// <summary>Local mode with chains at once: each chain's stages as the start order found them (<see cref="StartOrderAsync"/>).</summary>
    private readonly ConcurrentDictionary<Conveyor, LocalWalk> _localWalks = new(ReferenceEqualityComparer.Instance);
    /// <summary>The base images being made sure of, each once however many chains start from it.</summary>
    private readonly ConcurrentDictionary<string, Lazy<Task>> _baseImagePulls = new();
    private IReadOnlySet<string> _foundLocally = new HashSet<string>();
    /// <summary>The ansible tasks of every chain the build can reach, checked before the first stage builds.</summary>
    private IReadOnlyList<Config.AnsibleTask> _ansibleTasks = [];

    /// <param name="storage">The stages storage of distributed mode (REPO); null to build with the local engine alone.</param>
    /// <param name="claims">Claims on stages in REPO, so that hosts building at once build each stage about once.</param>
    /// <param name="locks">The host's locks (the host's files unless a test simulates hosts).</param>
    public ConveyorBuilder(ILocalStages local, IStageBuilder stageBuilder, IStagesStorage? storage, IStageClaims? claims, IBaseImages baseImages,
        BuildOptions options, IReporter reporter, IHostLocks? locks = null, TimeProvider? time = null, RebuildReasons? reasons = null)
    {
        _reasons = reasons;
        _baseImages = baseImages;
        _local = local;
        _stageBuilder = stageBuilder;
        _storage = storage;
        _publications = storage is null ? null : new StagePublications(storage, local, reporter);
        _options = options;
        _reporter = reporter;
        _locks = locks ?? FileHostLocks.Instance;
        _time = time ?? TimeProvider.System;
        _claimWaits = claims is null ? null : new ClaimWaits(claims, reporter, options.LockTimeout, _time);
        // An interactive shell is someone's terminal: chains building beside it would write over it.
        _jobs = new ChainJobs(options.Introspect.Any ? 1 : options.Jobs);
    }

    /// <summary>Builds the conveyors (and what they are built from); with a stages storage, waits for every publication even when a build fails.</summary>
    public async Task BuildAllAsync(IReadOnlyList<Conveyor> conveyors, CancellationToken ct)
    {
        _ansibleTasks = Conveyor.WithDependencies(conveyors).SelectMany(c => c.Stages).SelectMany(s => s.Stage.Work.AnsibleTasks).ToList();
        _reasons?.Know(Conveyor.WithDependencies(conveyors));
        try
        {
            if (_storage is not null)
            {
                var all = Conveyor.WithDependencies(conveyors);
                var local = await _local.LookUpAsync(all.SelectMany(c => c.Stages).Select(s => s.Signature).ToHashSet(), ct);
                var plans = await ChainWalk.PlanAsync(all, local, _storage, all: false, ct);
                // A stage the chain goes on from in the storage must be the stage its tag names (its labels say so: read
                // once, and again by the dimg tags made from it); one that is not is missing, and the walk goes further back.
                // A dependency found whole (an artifact, a fromDimg base) is read only if a build needs it (BuildAsync):
                // a registry that counts manifest reads as pulls is asked for no more than the dimg tags need.
                bool ReadNow(ChainPlan plan) => conveyors.Contains(plan.Conveyor) || plan.FirstMissing < plan.Conveyor.Stages.Count;
                while (await AnyImpostorAsync(plans.Where(ReadNow).ToList(), ct)) plans = await ChainWalk.PlanAsync(all, local, _storage, all: false, ct);
                foreach (var plan in plans)
                {
                    _plans[plan.Conveyor] = plan;
                    if (!ReadNow(plan)) _unread[plan.Conveyor] = true;
                }
                _foundLocally = local;
            }
            if (_jobs.OneAtATime)
            {
                foreach (var conveyor in conveyors)
                {
                    try
                    {
                        await StartChain(conveyor, lastNeeded: false, ct);
                    }
                    catch (Exception)
                    {
                        break;
                    }
                }
            }
            else
                foreach (var conveyor in await StartOrderAsync(conveyors, ct))
                    _ = StartChain(conveyor, lastNeeded: !conveyors.Contains(conveyor), ct); // WaitAllAsync waits for every chain
            await _jobs.WaitAllAsync(_reporter.Warning, ct);
            // Checked once every chain is built, so that publications keep running beside the next builds.
            if (_storage is not null && !_options.DryRun)
                foreach (var conveyor in Conveyor.WithDependencies(conveyors).Where(_jobs.Started))
                    await _publications!.ReconcileAsync(conveyor,
                        (index, token) => BuildStageAsync(conveyor, index, ChainSlot.None, force: false, token, rebuild: true), ct);
        }
        finally
        {
            await _stageBuilder.SettledAsync();
            // Every stage built before a failure is in the storage too.
            if (_publications is not null) await _publications.SettledAsync();
        }
        if (_publications is not null) await _publications.AllAsync();
    }

    private async Task<bool> AnyImpostorAsync(IReadOnlyList<ChainPlan> plans, CancellationToken ct)
    {
        var found = plans.Select(p => p.Found).OfType<(ConveyorStage Stage, StageSource Source)>().Where(f => f.Source == StageSource.Storage)
            .Select(f => f.Stage.Signature).Distinct().ToList();
        var labels = await Task.WhenAll(found.Select(s => _storage!.GetLabelsAsync(s, ct)));
        return labels.Any(l => l is null);
    }

    /// <summary>The conveyor's chain, started unless it was.</summary>
    /// <param name="lastNeeded">The caller needs the last stage locally next (an import, a fromDimg base): it will report the pull.</param>
    private Task StartChain(Conveyor conveyor, bool lastNeeded, CancellationToken ct) =>
        _jobs.Start(conveyor, (slot, token) => BuildAsync(conveyor, slot, lastNeeded, token), ct);

    private async Task BuildAsync(Conveyor conveyor, ChainSlot slot, bool lastNeeded, CancellationToken ct)
    {
        if (_unread.TryRemove(conveyor, out _))
            while (await AnyImpostorAsync([_plans[conveyor]], ct))
                _plans[conveyor] = (await ChainWalk.PlanAsync([conveyor], _foundLocally, _storage!, all: false, ct))[0];
        if (_storage is null) await BuildLocalAsync(conveyor, slot, ct);
        else await BuildDistributedAsync(conveyor, slot, lastNeeded, ct);
    }

    /// <summary>
    /// With chains building at once, the chains the stages from <paramref name="first"/> on need (a fromDimg base, imported
    /// artifacts) start now, beside this one's first stages; one after another, each starts when a stage needs it.
    /// </summary>
    private void StartDependencies(Conveyor conveyor, int first, CancellationToken ct)
    {
        if (_jobs.OneAtATime) return;
        foreach (var dependency in Dependencies(conveyor, first)) StartChain(dependency, lastNeeded: true, ct);
    }

    private static IEnumerable<Conveyor> Dependencies(ConveyorStage stage) =>
        (stage.Stage is FromStage { BaseConveyor: { } baseConveyor } ? [baseConveyor] : Array.Empty<Conveyor>())
            .Concat(stage.Stage.Work.Imports.Select(i => i.Artifact));

    /// <summary>The chains the stages from <paramref name="first"/> on need.</summary>
    private static IEnumerable<Conveyor> Dependencies(Conveyor conveyor, int first) => conveyor.Stages.Skip(first).SelectMany(Dependencies);

    /// <summary>
    /// With chains at once, the chains this build needs, each after those it waits for (imported artifacts, fromDimg
    /// bases: post-order), so that they take the first slots: a dimg's install must not hold the slot the artifact it
    /// imports at setup needs. A dependency is needed when a stage to build imports it or starts from it.
    /// </summary>
    private async Task<IReadOnlyList<Conveyor>> StartOrderAsync(IReadOnlyList<Conveyor> conveyors, CancellationToken ct)
    {
        var all = Conveyor.WithDependencies(conveyors);
        var first = new Dictionary<Conveyor, int>(ReferenceEqualityComparer.Instance);
        if (_storage is not null)
            foreach (var conveyor in all) first[conveyor] = _plans[conveyor].FirstMissing;
        else
            foreach (var (conveyor, walk) in all.Zip(await Task.WhenAll(all.Select(c => LocalWalkAsync(c, ct)))))
            {
                _localWalks[conveyor] = walk;
                first[conveyor] = walk.LastPresent + 1;
            }
        var order = new List<Conveyor>();
        var seen = new HashSet<Conveyor>(ReferenceEqualityComparer.Instance);
        void Visit(Conveyor conveyor)
        {
            if (!seen.Add(conveyor)) return;
            foreach (var dependency in Dependencies(conveyor, first[conveyor])) Visit(dependency);
            order.Add(conveyor);
        }
        foreach (var conveyor in conveyors) Visit(conveyor);
        return order;
    }

    /// <summary>A chain's stages in the local engine: how many can be used (<see cref="UsableStages"/>), and the last one present among those.</summary>
    private sealed record LocalWalk(int Usable, string? Vanished, bool[] Present)
    {
        public int LastPresent => Array.LastIndexOf(Present, true);
    }

    private async Task<LocalWalk> LocalWalkAsync(Conveyor conveyor, CancellationToken ct)
    {
        var images = await Task.WhenAll(conveyor.Stages.Select(s => _local.InspectAsync(s.Signature, ct)));
        var (usable, vanished) = UsableStages(conveyor, images);
        return new LocalWalk(usable, vanished, images.Take(usable).Select(i => i is not null).ToArray());
    }

    private async Task BuildLocalAsync(Conveyor conveyor, ChainSlot slot, CancellationToken ct)
    {
        var stages = conveyor.Stages;
        var walk = _localWalks.TryRemove(conveyor, out var walked) ? walked : await LocalWalkAsync(conveyor, ct);
        var (usable, vanished, present) = walk;
        var lastPresent = walk.LastPresent;

        for (int i = 0; i <= lastPresent; i++)
            await ReportAsync(conveyor, stages[i], present[i] ? StageState.UsingCache : StageState.NotPresent, ct);

        if (vanished is not null)
            _reporter.Warning($"{conveyor.Image.DisplayName}: stage {stages[usable].Name.DappName()} {vanished}: rebuilding it and the stages after it");
        StartDependencies(conveyor, lastPresent + 1, ct);
        for (int i = lastPresent + 1; i < stages.Count; i++)
            await BuildStageAsync(conveyor, i, slot, force: i >= usable, ct);
    }

    /// <summary>The stages the walk found: the one found is used (local) or left in the storage until a build needs it; the missing ones are built.</summary>
    private async Task BuildDistributedAsync(Conveyor conveyor, ChainSlot slot, bool lastNeeded, CancellationToken ct)
    {
        // BuildAllAsync walked every chain a build can reach.
        var plan = _plans[conveyor];
        var first = plan.FirstMissing;
        StartDependencies(conveyor, first, ct);
        if (plan.Found is { } found)
        {
            if (found.Source == StageSource.Local)
            {
                await ReportAsync(conveyor, found.Stage, StageState.UsingCache, ct);
                // The storage may lack a stage this host has (built without --stages-storage, or by another job of
                // this engine that has not published it yet): what the chain goes on from goes there too.
                if (!_options.DryRun) await _publications!.PublishFoundAsync(conveyor, first - 1, ct);
            }
            else if (first < conveyor.Stages.Count || lastNeeded)
            {
                if (_options.DryRun) Report(conveyor, found.Stage, _options.Plan ? StageState.InRepo : StageState.Pull);
            }
            else Report(conveyor, found.Stage, StageState.InRepo);
        }
        for (int i = first; i < conveyor.Stages.Count; i++)
            await BuildStageAsync(conveyor, i, slot, force: false, ct);
    }

    /// <summary>
    /// How many stages from the start can be reused: a stage image whose recorded git commit no longer exists in the
    /// repository (after a rebase or a force-push) cannot be patched from, so it and every later stage are rebuilt.
    /// </summary>
    private static (int Usable, string? Reason) UsableStages(Conveyor conveyor, IReadOnlyList<Docker.DotNet.Models.ImageInspectResponse?> images)
    {
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i]?.Config?.Labels is not { } labels) continue;
            foreach (var path in conveyor.GitPaths)
                if (path.VanishedCommit(labels.AsReadOnly()) is { } reason)
                    return (i, reason);
        }
        return (images.Count, null);
    }

    /// <param name="rebuild">Building again after a lost race: a local image of the stage is used only if the storage takes it as built on its parent.</param>
    private async Task BuildStageAsync(Conveyor conveyor, int index, ChainSlot slot, bool force, CancellationToken ct, bool rebuild = false)
    {
        var stage = conveyor.Stages[index];
        if (_jobs.Stopping) throw new ChainStoppedException();
        await _stageBuilder.CheckAnsibleTasksAsync(_ansibleTasks, ct);
        await EnsureDependenciesAsync(conveyor, stage, slot, ct);
        if (_jobs.Stopping) throw new ChainStoppedException();
        if (_options.DryRun)
        {
            await ReportAsync(conveyor, stage, StageState.Build, ct);
            return;
        }

        // Two chains may share a stage (the same base and instructions): the later one waits and finds it built.
        using var stageGate = await _jobs.StageGateAsync(stage.Signature, slot, ct);
        using var stageLock = await _jobs.UnlessStoppedAsync(waits => _locks.AcquireAsync($"{_local.Project}.{stage.Signature}", _options.LockTimeout,
            () => _reporter.Info($"{conveyor.Image.DisplayName}: waiting for another dapp process building {stage.Name.DappName()}"), waits), ct);
        if (rebuild && await _local.ExistsAsync(stage.Signature, ct))
        {
            // Another job of this engine may have built it again already.
            Publish(conveyor, index, built: false, ct);
            switch (await _publications!.OutcomeAsync(stage.Signature))
            {
                case PublishOutcome.Published or PublishOutcome.Present:
                    Report(conveyor, stage, StageState.UsingCache);
                    return;
                case PublishOutcome.Lost:
                    await _storage!.SyncLocalCopyAsync(stage.Signature, NoTransferDisplay.Instance, ct);
                    _publications.MarkPresent(stage.Signature);
                    if (index == conveyor.Stages.Count - 1) Report(conveyor, stage, StageState.InRepo);
                    return;
            }
            _publications.Forget(stage.Signature);
            force = true;
        }
        if (!force && await _local.ExistsAsync(stage.Signature, ct))
        {
            Report(conveyor, stage, StageState.UsingCache);
            Publish(conveyor, index, built: false, ct);
            return;
        }

        var stoppedForAnother = false;
        while (true)
        {
            IClaimHold? claim = null;
            if (_claimWaits is not null)
            {
                var (published, held) = await _claimWaits.ClaimOrWaitAsync(conveyor, stage, stoppedForAnother, ct, _jobs.StopToken);
                if (published)
                {
                    // Another host built it: the stages after it build on that copy, pulled when needed (and at once
                    // when this engine has another copy, which another job of it built meanwhile).
                    if (await _local.ExistsAsync(stage.Signature, ct)) await _storage!.SyncLocalCopyAsync(stage.Signature, NoTransferDisplay.Instance, ct);
                    if (index == conveyor.Stages.Count - 1) Report(conveyor, stage, StageState.InRepo);
                    return;
                }
                claim = held;
            }
            try
            {
                var previousImage = index > 0 ? await LocalImageAsync(conveyor, conveyor.Stages[index - 1], ct) : await BaseImageAsync(conveyor, ct);
                var started = _time.GetTimestamp();
                var buildEvent = await ReportAsync(conveyor, stage, StageState.Build, ct);
                using (var build = CancellationTokenSource.CreateLinkedTokenSource(ct, claim?.Lost ?? CancellationToken.None))
                    await _stageBuilder.BuildAsync(conveyor, stage, previousImage, build.Token, claim is null ? null : claim.ConfirmAsync);
                _reporter.StageBuilt(buildEvent, _time.GetElapsedTime(started));
            }
            catch (Exception) when (claim is { IsLost: true } && !ct.IsCancellationRequested)
            {
                // Another host's claim raced with ours and won: this build stopped before its commit (however the stop
                // surfaced), and this host waits for theirs.
                await claim.DisposeAsync();
                stoppedForAnother = true;
                continue;
            }
            catch
            {
                if (claim is not null) await claim.DisposeAsync();
                throw;
            }
            Publish(conveyor, index, built: true, ct, claim);
            return;
        }
    }

    private async Task EnsureDependenciesAsync(Conveyor conveyor, ConveyorStage stage, ChainSlot slot, CancellationToken ct)
    {
        foreach (var dependency in Dependencies(stage))
            await slot.WhileWaitingAsync(() => StartChain(dependency, lastNeeded: true, ct), ct);
        if (_options.DryRun) return;
        foreach (var import in stage.Stage.Work.Imports)
            await LocalImageAsync(import.Artifact, import.Artifact.Stages[^1], ct);
    }

    /// <summary>The local name of a stage a build needs, fetched from the stages storage when only the storage has it.</summary>
    private async Task<string> LocalImageAsync(Conveyor conveyor, ConveyorStage stage, CancellationToken ct)
    {
        if (_storage is not null && !await _local.ExistsAsync(stage.Signature, ct))
        {
            Report(conveyor, stage, StageState.Pull);
            using var display = _reporter.BeginTransfers("pull", 1);
            await _storage.FetchAsync([stage.Signature], display, ct);
        }
        return _local.ImageName(stage.Signature);
    }

    private void Publish(Conveyor conveyor, int index, bool built, CancellationToken ct, IClaimHold? claim = null) =>
        _publications?.Publish(conveyor, index, built, ct, claim);

    /// <summary>The image the from stage starts from; a missing <c>from</c> image is pulled (transient registry faults retried).</summary>
    private async Task<string> BaseImageAsync(Conveyor conveyor, CancellationToken ct)
    {
        if (conveyor.From.BaseConveyor is { } baseConveyor)
            return await LocalImageAsync(baseConveyor, baseConveyor.Stages[^1], ct);
        var image = conveyor.From.BaseImage!;
        try
        {
            await _baseImagePulls.GetOrAdd(image, _ => new Lazy<Task>(() =>
                _baseImages.EnsureAsync(image, () => _reporter.Info($"{conveyor.Image.DisplayName}: pulling base image {image}"), ct))).Value;
        }
        catch (DappException e)
        {
            throw new DappException($"{conveyor.Image.DisplayName} ({conveyor.Image.FromLocation}): cannot get the base image '{image}': it is not in the local engine and pulling it failed: {e.Message}", e);
        }
        return image;
    }

    private StageEvent Report(Conveyor conveyor, ConveyorStage stage, StageState state)
    {
        var e = new StageEvent(conveyor.Image.DisplayName, stage.Name.DappName(), stage.Signature, state);
        _reporter.Stage(e);
        return e;
    }

    /// <summary>A stage line with why it is built (a [BUILD] line), or the note a used from stage gets.</summary>
    private async Task<StageEvent> ReportAsync(Conveyor conveyor, ConveyorStage stage, StageState state, CancellationToken ct)
    {
        var e = new StageEvent(conveyor.Image.DisplayName, stage.Name.DappName(), stage.Signature, state);
        if (_reasons is not null)
            e = state == StageState.Build
                ? e with { Reason = await _reasons.ForAsync(conveyor, stage, ct) }
                : e with { Note = await _reasons.BaseImageNoteAsync(conveyor, stage, ct) };
        _reporter.Stage(e);
        return e;
    }
}
