using Dapp.Build;
using Dapp.Registry.Names;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;
using Dapp.Transfer;
using Dapp.Engine;
using Dapp.Registry.Remote;

namespace Dapp.Commands;

public sealed record PushOptions
{
    public TagOptions Tags { get; init; } = new();
    public bool WithStages { get; init; }

    /// <summary><c>spush</c>: exactly one dimg, pushed as <c>REPO:&lt;tag&gt;</c> whatever its name.</summary>
    public bool Simple { get; init; }

    public bool DryRun { get; init; }

    /// <summary><c>bp</c>: the build just ran (or, with --dry-run, would have run), so unbuilt dimgs are not an error in a dry run.</summary>
    public bool AfterBuild { get; init; }
}

/// <summary>
/// <c>dapp dimg push [--with-stages] [DIMG...] REPO</c> and <c>dapp dimg spush [DIMG] REPO</c> (docs/push.md): each dimg
/// image is the last stage plus the dimg labels. A tag the registry already has for the same content (the same last
/// stage and dimg labels) is <c>[EXIST]</c> and not pushed again.
/// </summary>
public static class PushCommand
{
    public static async Task RunAsync(DappProject project, IReadOnlyCollection<string> patterns, RepositoryName repo, PushOptions options,
        StagesStorageOption storage, IReporter reporter, CancellationToken ct)
    {
        if (storage.Repo is { } stagesRepo)
        {
            if (options.WithStages)
                throw new DappException($"--with-stages: with --stages-storage the stages are in {stagesRepo} already (dapp dimg stages push copies local stages to a registry)");
            var remote = await project.OpenStagesStorageAsync(stagesRepo, storage.Registry, storage.Transfers, reporter, ct);
            await TagInStorageAsync(project, await SelectAsync(project, patterns, options, ct), repo, options, remote, storage.Transfers, reporter, ct);
            if (storage.Summary) project.ReportStagesStorage(reporter);
            return;
        }

        var conveyors = await SelectAsync(project, patterns, options, ct);
        var (registryOptions, transfers) = (storage.Registry, storage.Transfers);
        var tags = options.Tags.Resolve(project.Repository, project.Options.Environment);
        await project.PrepareEngineAsync(reporter, ct);
        var assumeBuilt = options.DryRun && options.AfterBuild;
        foreach (var conveyor in conveyors)
            if (!assumeBuilt && !await project.Stages.ExistsAsync(conveyor.LastSignature, ct))
                throw new DappException($"Dimg hasn't been built yet: {conveyor.Image.DisplayName} (run dapp dimg build first)");

        using var registry = await project.OpenRegistryAsync(repo, registryOptions, ct);
        if (options.WithStages)
            await StagesPushCommand.PushAsync(project, Conveyor.WithDependencies(conveyors), project.RegistryStages(registry, transfers, reporter),
                options.DryRun, transfers.Parallel, reporter, ct, assumeBuilt);

        var work = new List<(Conveyor Conveyor, DimgTag Tag, string Target, ImageReference Reference)>();
        foreach (var conveyor in conveyors)
            foreach (var tag in tags)
            {
                var target = Target(repo, conveyor, tag, options);
                var reference = ImageReference.Parse(target);
                var exists = await IsSameImageAsync(registry, reference, conveyor, tag, ct);
                reporter.Stage(new StageEvent(conveyor.Image.DisplayName, target, conveyor.LastSignature, exists ? StageState.Exist : StageState.Push));
                if (!exists) work.Add((conveyor, tag, target, reference));
            }
        if (options.DryRun) return;

        var transfer = registry.Transfer(project.Engine, reporter.Warning);
        await ParallelTransfers.RunAsync(work, transfers.Parallel, async (item, token) =>
        {
            // The dimg image is made under a name of this process's own, then pushed under its target name.
            var made = Leftovers.DimgPushName(project.Name);
            await project.Stages.TagAsync(item.Conveyor.LastSignature, made, item.Tag.Scheme, dryRun: false, token);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            long pushed = 0;
            try
            {
                await transfer.PushAsync(made, item.Reference, (done, _) => pushed = done, token);
            }
            finally
            {
                project.RecordTransfer(item.Conveyor.LastSignature, new StageTransfer(0, pushed, System.Diagnostics.Stopwatch.GetElapsedTime(started)));
                await project.Engine.RemoveImageAsync(made, force: false, CancellationToken.None);
            }
        }, item => item.Target, "dimg pushes", ct);
    }

    private static async Task<IReadOnlyList<Conveyor>> SelectAsync(DappProject project, IReadOnlyCollection<string> patterns, PushOptions options, CancellationToken ct) =>
        options.Simple ? [await SingleDimg.SelectAsync(project, patterns, ct)] : await project.SelectConveyorsAsync(patterns, ct);

    private static string Target(RepositoryName repo, Conveyor conveyor, DimgTag tag, PushOptions options) =>
        options.Simple ? $"{repo.Written}:{tag.Tag}" : DimgImageNames.For(repo, conveyor.Image, tag.Tag);

    /// <summary>
    /// Distributed mode: each dimg image is made inside the registry from the last stage in the stages storage, never
    /// through the engine; a tag that already is that image (same digest) is <c>[EXIST]</c>.
    /// </summary>
    private static async Task TagInStorageAsync(DappProject project, IReadOnlyList<Conveyor> conveyors, RepositoryName repo, PushOptions options,
        RegistryStagesStorage storage, StagesTransferOptions transfers, IReporter reporter, CancellationToken ct)
    {
        var tags = options.Tags.Resolve(project.Repository, project.Options.Environment);
        var stored = await storage.LookUpAsync(conveyors.Select(c => c.LastSignature).ToList(), ct);
        var assumeBuilt = options.DryRun && options.AfterBuild;
        foreach (var conveyor in conveyors.Where(c => !stored.Contains(c.LastSignature) && !assumeBuilt))
            throw new DappException(await project.Stages.ExistsAsync(conveyor.LastSignature, ct)
                ? $"{conveyor.Image.DisplayName}: its last stage is in the local engine but not in the stages storage {storage.Location} (build with --stages-storage {storage.Location}, or copy the stages there with dapp dimg stages push {storage.Location})"
                : $"Dimg hasn't been built yet: {conveyor.Image.DisplayName} (run dapp dimg build --stages-storage {storage.Location} first)");

        var work = conveyors.SelectMany(c => tags.Select(t => (Conveyor: c, Tag: t, Target: Target(repo, c, t, options)))).ToList();
        await ParallelTransfers.RunAsync(work, transfers.Parallel, async (item, token) =>
        {
            var signature = item.Conveyor.LastSignature;
            // bp --dry-run: a stage not built yet makes a new image.
            var made = !stored.Contains(signature) || await storage.TagAsync(signature, item.Target, item.Tag.Scheme, options.DryRun, token);
            reporter.Stage(new StageEvent(item.Conveyor.Image.DisplayName, item.Target, signature, made ? StageState.Push : StageState.Exist));
        }, item => item.Target, "dimg tags", ct);
    }

    private static async Task<bool> IsSameImageAsync(RegistryAccess registry, ImageReference target, Conveyor conveyor, DimgTag tag, CancellationToken ct)
    {
        var labels = await RegistryImage.ReadLabelsAsync(registry.Client, target, ct);
        return labels is not null
            && labels.GetValueOrDefault(DappLabels.StageSignature) == conveyor.LastSignature
            && labels.GetValueOrDefault(DappLabels.Dimg) == "true"
            && labels.GetValueOrDefault(DappLabels.TagScheme) == tag.Scheme;
    }
}
