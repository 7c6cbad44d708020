using Dapp.Build;
using Dapp.Reporting;
using Dapp.Transfer;

namespace Dapp.Commands;

/// <summary>
/// <c>dapp dimg plan [DIMG...] [--stages-storage REPO]</c>: every signature, and one line per stage as a build would
/// print it, each <c>[BUILD]</c> with why (docs/commands.md); builds, pulls, pushes and removes nothing.
/// </summary>
public static class PlanCommand
{
    public static async Task RunAsync(DappProject project, IReadOnlyCollection<string> patterns, StagesStorageOption storage, IReporter reporter, CancellationToken ct)
    {
        var remote = storage.Repo is { } repo ? await project.OpenStagesStorageAsync(repo, storage.Registry, storage.Transfers, reporter, ct) : null;
        var conveyors = await project.SelectConveyorsAsync(patterns, ct);
        var options = new BuildOptions { DryRun = true, Plan = true, Jobs = 1 };
        // Asked for nothing in a dry run: a plan pulls no base image.
        var baseImages = new BaseImages(project.Engine, storage.Registry with { Environment = project.Options.Environment }, storage.Repo?.Registry, reporter.Warning);
        await new ConveyorBuilder(project.Stages, NoStageBuilder.Instance, remote, claims: null, baseImages, options, reporter, reasons: project.RebuildReasons(remote))
            .BuildAllAsync(conveyors, ct);
    }
}
