using System.Diagnostics;
using Dapp.Engine;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Build;

/// <summary>
/// Walks conveyors: reports each stage as cached, not present or to build, builds what is missing from the latest
/// present stage on (each stage tagged as soon as it is built), and builds the conveyors it depends on only when a
/// stage that needs them has to be built.
/// </summary>
public sealed class ConveyorBuilder
{
    private readonly DockerEngine _engine;
    private readonly LocalStagesStorage _storage;
    private readonly BuildOptions _options;
    private readonly IReporter _reporter;
    private readonly StageImageBuilder _stageBuilder;
    private readonly HashSet<Conveyor> _done = new(ReferenceEqualityComparer.Instance);

    public ConveyorBuilder(DockerEngine engine, LocalStagesStorage storage, BuildOptions options, IReporter reporter, MountBinds mounts)
    {
        _engine = engine;
        _storage = storage;
        _options = options;
        _reporter = reporter;
        _stageBuilder = new StageImageBuilder(engine, storage, options, mounts, reporter);
    }

    public async Task BuildAsync(Conveyor conveyor, CancellationToken ct)
    {
        if (!_done.Add(conveyor)) return;
        var stages = conveyor.Stages;
        var images = await Task.WhenAll(stages.Select(s => _storage.InspectAsync(s.Signature, ct)));
        var (usable, vanished) = UsableStages(conveyor, images);
        var present = images.Take(usable).Select(i => i is not null).ToArray();
        var lastPresent = Array.LastIndexOf(present, true);

        for (int i = 0; i <= lastPresent; i++)
            Report(conveyor, stages[i], present[i] ? StageState.UsingCache : StageState.NotPresent);

        if (vanished is not null)
            _reporter.Warning($"{conveyor.Image.DisplayName}: stage {stages[usable].Name.DappName()} {vanished}: rebuilding it and the stages after it");
        for (int i = lastPresent + 1; i < stages.Count; i++)
            await BuildStageAsync(conveyor, stages[i], i == 0 ? null : stages[i - 1], force: i >= usable, ct);
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
                if (labels.TryGetValue(path.CommitLabel, out var commit) && !path.HasCommit(commit))
                    return (i, $"was built at commit {commit[..Math.Min(12, commit.Length)]} of {(path.RepositoryName == "own" ? "the project's repository" : path.RepositoryName)}, which no longer exists there (rebased or force-pushed?)");
        }
        return (images.Count, null);
    }

    private async Task BuildStageAsync(Conveyor conveyor, ConveyorStage stage, ConveyorStage? previous, bool force, CancellationToken ct)
    {
        await EnsureDependenciesAsync(conveyor, stage, ct);
        if (_options.DryRun)
        {
            Report(conveyor, stage, StageState.Build);
            return;
        }

        using var stageLock = await StageLock.AcquireAsync($"{_storage.Project}.{stage.Signature}", _options.LockTimeout,
            () => _reporter.Info($"{conveyor.Image.DisplayName}: waiting for another dapp process building {stage.Name.DappName()}"), ct);
        if (!force && await _storage.ExistsAsync(stage.Signature, ct))
        {
            Report(conveyor, stage, StageState.UsingCache);
            return;
        }

        var previousImage = previous is not null ? _storage.ImageName(previous.Signature) : await BaseImageAsync(conveyor, ct);
        var started = Stopwatch.StartNew();
        var buildEvent = Report(conveyor, stage, StageState.Build);
        await _stageBuilder.BuildAsync(conveyor, stage, previousImage, ct);
        _reporter.StageBuilt(buildEvent, started.Elapsed);
    }

    private async Task EnsureDependenciesAsync(Conveyor conveyor, ConveyorStage stage, CancellationToken ct)
    {
        if (stage.Stage is FromStage { BaseConveyor: { } baseConveyor })
            await BuildAsync(baseConveyor, ct);
        foreach (var import in stage.Stage.Work.Imports)
            await BuildAsync(import.Artifact, ct);
    }

    /// <summary>The image the from stage starts from; a missing <c>from</c> image is pulled (transient registry faults retried).</summary>
    private async Task<string> BaseImageAsync(Conveyor conveyor, CancellationToken ct)
    {
        if (conveyor.From.BaseConveyor is { } baseConveyor)
            return _storage.ImageName(baseConveyor.LastSignature);
        var image = conveyor.From.BaseImage!;
        if (await _engine.ImageExistsAsync(image, ct)) return image;
        _reporter.Info($"{conveyor.Image.DisplayName}: pulling base image {image}");
        try
        {
            await ImageTransfer.RetryEngineAsync(ImageTransfer.EngineOnlyPolicy, _reporter.Warning, () => _engine.PullAsync(image, null, ct), ct);
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
}
