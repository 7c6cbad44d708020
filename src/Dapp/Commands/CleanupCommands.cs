using Dapp.Build;
using Dapp.Reporting;
using Dapp.Storage;
using Dapp.Engine;

namespace Dapp.Commands;

/// <summary>The local flush and cleanup commands (docs/commands.md): flushing the project's images and removing build leftovers.</summary>
public static class CleanupCommands
{
    /// <summary><c>dimg stages flush local</c>.</summary>
    public static async Task StagesFlushLocalAsync(DappProject project, bool dryRun, bool force, IReporter reporter, CancellationToken ct)
    {
        var users = await ImageUsers.ReadAsync(project.Engine, ct);
        int removed = 0;
        foreach (var image in await project.Stages.ListAsync(ct))
            foreach (var tag in (image.RepoTags ?? []).Where(t => t.StartsWith(project.Stages.Repository + ":", StringComparison.Ordinal)))
                if (await RemoveAsync(project, tag, image.ID, users, dryRun, force, reporter, ct)) removed++;
        if (!dryRun) reporter.Info($"removed {removed} stage image(s) of {project.Name}");
        await CleanupAsync(project, dryRun, force, reporter, ct);
    }

    /// <summary><c>dimg flush local [--with-stages]</c>: the project's dimg images (label dapp-dimg=true).</summary>
    public static async Task FlushLocalAsync(DappProject project, bool withStages, bool dryRun, bool force, IReporter reporter, CancellationToken ct)
    {
        var users = await ImageUsers.ReadAsync(project.Engine, ct);
        var images = await project.Engine.ListImagesAsync(Filters.Labels($"{DappLabels.Project}={project.Name}", $"{DappLabels.Dimg}=true"), ct);
        foreach (var image in images)
            foreach (var tag in (image.RepoTags ?? []).Where(t => t != "<none>:<none>"))
                await RemoveAsync(project, tag, image.ID, users, dryRun, force, reporter, ct);
        if (withStages) await StagesFlushLocalAsync(project, dryRun, force, reporter, ct);
        else await CleanupAsync(project, dryRun, force, reporter, ct);
    }

    /// <summary><c>dimg cleanup</c>: leftovers of killed dapp processes (build containers, stage push names, spools) and dangling project images.</summary>
    public static async Task CleanupAsync(DappProject project, bool dryRun, bool force, IReporter reporter, CancellationToken ct)
    {
        await new Leftovers(project.Engine, project.Stages).RemoveAsync(reporter, all: true, dryRun, ct);
        var users = await ImageUsers.ReadAsync(project.Engine, ct);
        var dangling = new Dictionary<string, IDictionary<string, bool>>(Filters.Labels($"{DappLabels.Project}={project.Name}"))
        {
            ["dangling"] = new Dictionary<string, bool> { ["true"] = true },
        };
        foreach (var image in await project.Engine.ListImagesAsync(dangling, ct))
            await RemoveAsync(project, image.ID, image.ID, users, dryRun, force, reporter, ct, kind: "dangling image");
    }

    /// <summary>
    /// Removes one name (or a nameless image by its ID), unless a container of the user's uses the image and the user
    /// did not say --force: then it is kept and the container named.
    /// </summary>
    private static async Task<bool> RemoveAsync(DappProject project, string name, string imageId, ImageUsers users, bool dryRun, bool force, IReporter reporter,
        CancellationToken ct, string? kind = null)
    {
        if (!force && users.KeepReason(imageId) is { } why)
        {
            reporter.Removal(new RemovalEvent(RemovalAction.Keep, name, why, kind));
            return false;
        }
        reporter.Removal(new RemovalEvent(RemovalEvent.Removing(dryRun), name, Kind: kind));
        return !dryRun && await project.Engine.RemoveImageAsync(name, force: true, ct);
    }
}
