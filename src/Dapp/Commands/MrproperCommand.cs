using System.Globalization;
using Dapp.Engine;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;
using Dapp.Cleanup;

namespace Dapp.Commands;

public sealed record MrproperOptions
{
    /// <summary>Every dapp build container and image of every project, and the caches under DAPP_HOME.</summary>
    public bool All { get; init; }

    /// <summary>Stage images of every project whose cache version is not this dapp's.</summary>
    public bool ImproperCacheVersionStages { get; init; }

    /// <summary>dapp's dev-mode stages: this dapp has no dev mode, so there are none.</summary>
    public bool ImproperDevModeCache { get; init; }

    public bool DryRun { get; init; }

    /// <summary>Remove images that containers of the user's use too (kept and named otherwise).</summary>
    public bool Force { get; init; }
}

/// <summary>
/// <c>dapp dimg mrproper</c> (docs/cleanup.md): host-wide cleanup of what dapp made, for every project; needs no
/// dappfile.
/// </summary>
public static class MrproperCommand
{
    public static async Task<int> RunAsync(ProjectOptions projectOptions, MrproperOptions options, IReporter reporter, CancellationToken ct)
    {
        if (!options.All && !options.ImproperCacheVersionStages && !options.ImproperDevModeCache)
            throw new DappException("mrproper: say what to remove: --all, --improper-cache-version-stages or --improper-dev-mode-cache");
        using var engine = DockerEngine.Connect(projectOptions.DockerHost, projectOptions.Environment);
        var host = new DappHostObjects(engine);
        await host.PingAsync(ct);
        var verb = options.DryRun ? "would remove" : "remove";
        int removed = 0;
        long bytes = 0;
        if (options.ImproperDevModeCache && !options.All)
            reporter.Info("no dev-mode stages to remove: this dapp has no --dev mode, so it never makes them");

        if (options.All)
        {
            // Build containers, and the builders' toolchain containers (their volumes with them: the next build that
            // needs a toolchain makes it again).
            foreach (var (id, name) in (await host.BuildContainersAsync(ct)).Concat(await host.DepsContainersAsync(ct)))
            {
                reporter.Info($"{verb} container {name}");
                if (!options.DryRun) await host.RemoveContainerAsync(id, ct);
            }
        }

        var users = await host.ImageUsersAsync(ct);
        // Reports the image and removes it (not in a dry run); false when it is kept for a user's container, or the engine
        // refused (it is named in a warning).
        async Task<bool> RemoveAsync(DappImage image)
        {
            var shown = image.Names.Count > 0 ? string.Join(", ", image.Names) : image.Id;
            if (!options.Force && users.KeepReason(image.Id) is { } why)
            {
                reporter.Info($"keep image {shown}: {why}");
                return false;
            }
            reporter.Info($"{verb} image {shown}");
            if (options.DryRun) return true;
            try
            {
                await host.RemoveImageAsync(image, ct);
                return true;
            }
            catch (DappException e)
            {
                reporter.Warning($"cannot remove image {image.Id}: {e.Message}");
                return false;
            }
        }

        var ourVersion = SignatureBuilder.SchemaVersion.ToString(CultureInfo.InvariantCulture);
        bool Selected(DappImage image) => options.All
            || image.IsStage && image.Labels.GetValueOrDefault(DappLabels.CacheVersion) is { } version && version != ourVersion;
        // A child image keeps its parents: what is left after a round is tried again, until a round removes nothing.
        var tried = new HashSet<string>();
        while (true)
        {
            var round = (await host.ImagesAsync(ct)).Where(Selected).Where(i => tried.Add(i.Id)).ToList();
            if (round.Count == 0) break;
            foreach (var image in round)
            {
                if (!await RemoveAsync(image)) continue;
                removed++;
                bytes += image.Size;
            }
            if (options.DryRun) break;
        }

        if (options.All)
        {
            // The toolchains' images (not labelled dapp: they are not counted among dapp's images below).
            foreach (var image in await host.DepsImagesAsync(ct)) await RemoveAsync(image);
            foreach (var cache in new[] { "builds", "git_repo" }.Select(d => Path.Combine(DappInfo.Home, d)).Where(Directory.Exists))
            {
                reporter.Info($"{verb} {cache}");
                if (!options.DryRun) Directory.Delete(cache, recursive: true);
            }
        }
        var kept = options.DryRun ? (await host.ImagesAsync(ct)).Count - removed : (await host.ImagesAsync(ct)).Count;
        reporter.Info($"{(options.DryRun ? "would remove" : "removed")} {removed} image(s) ({TransferTotals.Format(bytes)}, shared layers counted in each); "
            + $"kept {kept} image(s) labelled dapp");
        return removed;
    }
}
