using Dapp.Build;
using Dapp.Reporting;
using Dapp.Storage;

namespace Dapp.Commands;

/// <summary>The local flush and cleanup commands (docs/commands.md): flushing the project's images and removing build leftovers.</summary>
public static class CleanupCommands
{
    /// <summary><c>dimg stages flush local</c>.</summary>
    public static async Task StagesFlushLocalAsync(DappProject project, bool dryRun, IReporter reporter, CancellationToken ct)
    {
        foreach (var image in await project.Stages.ListAsync(ct))
            foreach (var tag in image.RepoTags ?? []) reporter.Removal(new RemovalEvent(RemovalEvent.Removing(dryRun), tag));
        if (dryRun) return;
        var removed = await project.Stages.FlushAsync(ct);
        reporter.Info($"removed {removed} stage image(s) of {project.Name}");
        await CleanupAsync(project, dryRun, reporter, ct);
    }

    /// <summary><c>dimg flush local [--with-stages]</c>: the project's dimg images (label dapp-dimg=true).</summary>
    public static async Task FlushLocalAsync(DappProject project, bool withStages, bool dryRun, IReporter reporter, CancellationToken ct)
    {
        var images = await project.Engine.ListImagesAsync(Filters.Labels($"{DappLabels.Project}={project.Name}", $"{DappLabels.Dimg}=true"), ct);
        foreach (var tag in images.SelectMany(i => i.RepoTags ?? []).Where(t => t != "<none>:<none>"))
        {
            reporter.Removal(new RemovalEvent(RemovalEvent.Removing(dryRun), tag));
            if (!dryRun) await project.Engine.RemoveImageAsync(tag, force: true, ct);
        }
        if (withStages) await StagesFlushLocalAsync(project, dryRun, reporter, ct);
        else await CleanupAsync(project, dryRun, reporter, ct);
    }

    /// <summary><c>dimg cleanup</c>: leftovers of killed dapp processes (build containers, stage push names) and dangling project images.</summary>
    public static async Task CleanupAsync(DappProject project, bool dryRun, IReporter reporter, CancellationToken ct)
    {
        await new Leftovers(project.Engine, project.Stages).RemoveAsync(reporter, all: true, dryRun, ct);
        var dangling = new Dictionary<string, IDictionary<string, bool>>(Filters.Labels($"{DappLabels.Project}={project.Name}"))
        {
            ["dangling"] = new Dictionary<string, bool> { ["true"] = true },
        };
        foreach (var image in await project.Engine.ListImagesAsync(dangling, ct))
        {
            reporter.Removal(new RemovalEvent(RemovalEvent.Removing(dryRun), image.ID, Kind: "dangling image"));
            if (!dryRun) await project.Engine.RemoveImageAsync(image.ID, force: true, ct);
        }
    }
}
