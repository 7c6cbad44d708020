using Dapp.Build;
using Dapp.Registry.Names;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;

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
    public static async Task RunAsync(DappProject project, IReadOnlyCollection<string> patterns, string repo, PushOptions options,
        RegistryOptions registryOptions, IReporter reporter, CancellationToken ct)
    {
        var conveyors = options.Simple ? [await SingleDimg.SelectAsync(project, patterns, ct)] : await project.SelectConveyorsAsync(patterns, ct);
        DockerNames.EnsureValidRepo(repo);
        var tags = options.Tags.Resolve(project.Repository, project.Options.Environment);
        await project.PrepareEngineAsync(reporter, ct);
        var assumeBuilt = options.DryRun && options.AfterBuild;
        foreach (var conveyor in conveyors)
            if (!assumeBuilt && !await project.Stages.ExistsAsync(conveyor.LastSignature, ct))
                throw new DappException($"Dimg hasn't been built yet: {conveyor.Image.DisplayName} (run dapp dimg build first)");

        using var registry = await RegistryAccess.OpenAsync(repo, registryOptions, project.Options.Environment, ct);
        if (options.WithStages)
            await StagesPushCommand.PushAsync(project, DappProject.WithDependencies(conveyors), registry, options.DryRun, registryOptions, reporter, ct, assumeBuilt);

        var tagger = new DimgImageTagger(project.Engine, project.Name);
        var work = new List<(Conveyor Conveyor, DimgTag Tag, string Target)>();
        foreach (var conveyor in conveyors)
            foreach (var tag in tags)
            {
                var target = options.Simple ? $"{repo}:{tag.Tag}" : DimgImageNames.For(repo, conveyor.Image, tag.Tag);
                var exists = await IsSameImageAsync(registry, target, conveyor, tag, ct);
                reporter.Stage(new StageEvent(conveyor.Image.DisplayName, target, conveyor.LastSignature, exists ? StageState.Exist : StageState.Push));
                if (!exists) work.Add((conveyor, tag, target));
            }
        if (options.DryRun) return;

        var transfer = registry.Transfer(project, reporter);
        await ParallelTransfers.RunAsync(work, registryOptions.ParallelTransfers, async (item, token) =>
        {
            // The dimg image is made under a name of this process's own, then pushed under its target name.
            var made = Leftovers.DimgPushName(project.Name);
            await tagger.TagAsync(project.Stages.ImageName(item.Conveyor.LastSignature), made, item.Tag.Scheme, token);
            try
            {
                await transfer.PushAsync(made, item.Target, null, token);
            }
            finally
            {
                await project.Engine.RemoveImageAsync(made, force: false, CancellationToken.None);
            }
        }, item => item.Target, "dimg pushes", ct);
    }

    private static async Task<bool> IsSameImageAsync(RegistryAccess registry, string target, Conveyor conveyor, DimgTag tag, CancellationToken ct)
    {
        var labels = await RegistryImageLabels.ReadAsync(registry.Client, ImageReference.Parse(target), ct);
        return labels is not null
            && labels.GetValueOrDefault(DappLabels.StageSignature) == conveyor.LastSignature
            && labels.GetValueOrDefault(DappLabels.Dimg) == "true"
            && labels.GetValueOrDefault(DappLabels.TagScheme) == tag.Scheme;
    }
}
