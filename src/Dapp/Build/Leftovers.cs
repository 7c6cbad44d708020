using System.Text.RegularExpressions;
using Dapp.Engine;
using Dapp.Reporting;
using Dapp.Storage;
using Docker.DotNet.Models;

namespace Dapp.Build;

internal enum LeftoverKind
{
    /// <summary>A build container (<c>dapp.build.&lt;project&gt;.*</c>), labelled with its owner process.</summary>
    Container,

    /// <summary><c>REPO:dimgstage-&lt;signature&gt;</c>: a stage's name for the engine's push.</summary>
    StagePushName,

    /// <summary><c>dapp-dimg-&lt;project&gt;:&lt;id&gt;</c>: a dimg image made for one push.</summary>
    DimgPushName,

    /// <summary><c>REPO:dapp-upload-N</c>: a stage's name for the engine's push in an upload slot no process holds.</summary>
    UploadName,
}

/// <summary>
/// What a leftovers scan looks at. Builds leave build containers and temp spools; pushes leave names of images
/// (and older dapps' stage pushes did). Listing the names costs the engine a walk over every image it has (50-80 ms
/// with 500 images), beside a build's first stages on a small host: a build looks for what builds leave only.
/// </summary>
[Flags]
internal enum LeftoverScope
{
    /// <summary>Build containers and temp spools.</summary>
    Containers = 1,

    /// <summary>Push names, upload names, dimg push names.</summary>
    Names = 2,

    All = Containers | Names,
}

/// <summary>
/// What a killed dapp process of the project can leave in the engine; <paramref name="Owner"/> is the process that
/// made it when recorded (build containers of older dapps have none), <paramref name="OwnerEnded"/> whether that
/// process is known to have ended (names, recorded by nobody, count as ended).
/// </summary>
internal sealed record LeftoverItem(LeftoverKind Kind, string Name, string Id, ProcessOwner? Owner, bool OwnerEnded)
{
    public string What => Kind switch
    {
        LeftoverKind.Container => "container",
        LeftoverKind.StagePushName => "stage push name",
        LeftoverKind.UploadName => "upload name",
        _ => "dimg push name",
    };
}

/// <summary>
/// Finds and removes what killed dapp processes of a project left in the engine: build containers (labelled with
/// their owner process, see <see cref="ProcessOwner"/>), and the registry names (<c>REPO:dimgstage-SIGNATURE</c>)
/// that a stage push gives a stage for the engine's push, and the names dimg images are made under before their push
/// (<c>dapp-dimg-&lt;project&gt;:&lt;id&gt;</c>, once older than a push can be), and the scratch names older dapps
/// pushed stages under (<c>REPO:dapp-upload-N</c>). Every command that uses the engine removes those of
/// processes known to have ended; <c>cleanup</c> lists all and removes every one not owned by a live process.
/// </summary>
internal sealed partial class Leftovers(IDockerEngine engine, LocalStagesStorage stages)
{
    [GeneratedRegex("^(?<repo>.+):dimgstage-(?<signature>[0-9a-f]{64})$")]
    private static partial Regex PushName();

    [GeneratedRegex("^.+:dapp-upload-[0-9]+$")]
    private static partial Regex UploadName();

    /// <summary>
    /// The name a dimg image is made under before its push (<see cref="DimgPushName"/>): the maker's pid and start time
    /// in the tag (older dapps wrote only the nonce).
    /// </summary>
    [GeneratedRegex("^dapp-dimg-(?<project>[a-z0-9-]+):(?:(?<pid>[0-9]{1,9})\\.(?<start>[0-9]{1,18})\\.)?[0-9a-f]{32}$")]
    private static partial Regex DimgMadeName();

    /// <summary>
    /// A name of this process's own for a dimg image about to be pushed: no other process uses or removes it, and the
    /// tag says which process made it, so that a killed push's image is known for a leftover at once.
    /// </summary>
    public static string DimgPushName(string project) =>
        $"dapp-dimg-{project}:{ProcessOwner.Current.Pid}.{ProcessOwner.Current.StartTicks}.{Guid.NewGuid():N}";

    /// <summary>A dimg push name of an older dapp records no process: one older than any push is left over.</summary>
    private static readonly TimeSpan StaleDimgPushName = TimeSpan.FromHours(6);

    public async Task<IReadOnlyList<LeftoverItem>> FindAsync(CancellationToken ct, LeftoverScope scope = LeftoverScope.All)
    {
        var current = ProcessOwner.Current;
        var items = new List<LeftoverItem>();
        var prefix = $"/{DappContainers.Prefix}{stages.Project}.";
        var listingContainers = scope.HasFlag(LeftoverScope.Containers)
            ? engine.ListContainersAsync(Filters.Of("name", DappContainers.Prefix + stages.Project + "."), ct)
            : Task.FromResult<IList<ContainerListResponse>>([]);
        var listingImages = scope.HasFlag(LeftoverScope.Names)
            ? engine.ListImagesAsync(Filters.Labels($"{DappLabels.Project}={stages.Project}"), ct)
            : Task.FromResult<IList<ImagesListResponse>>([]);
        var containers = await listingContainers;
        foreach (var container in containers.Where(c => c.Names.Any(n => n.StartsWith(prefix, StringComparison.Ordinal))))
        {
            var owner = ProcessOwner.Parse(container.Labels is { } labels && labels.TryGetValue(DappLabels.Owner, out var o) ? o : null);
            items.Add(new LeftoverItem(LeftoverKind.Container, container.Names[0].TrimStart('/'), container.ID, owner,
                owner is null || owner.HasEnded(current)));
        }
        // A push name is in use only for the length of a push; a live pusher that loses it tags it again.
        foreach (var image in await listingImages)
            foreach (var tag in image.RepoTags ?? [])
                if (PushName().Match(tag) is { Success: true } m && m.Groups["repo"].Value != stages.Repository
                    && image.Labels is { } il && il.TryGetValue(DappLabels.StageSignature, out var sig) && sig == m.Groups["signature"].Value)
                    items.Add(new LeftoverItem(LeftoverKind.StagePushName, tag, image.ID, null, OwnerEnded: true));
                else if (UploadName().IsMatch(tag))
                    items.Add(new LeftoverItem(LeftoverKind.UploadName, tag, image.ID, null, OwnerEnded: true));
                else if (DimgMadeName().Match(tag) is { Success: true } d && d.Groups["project"].Value == stages.Project)
                {
                    if (!d.Groups["pid"].Success)
                    {
                        if (image.Created < DateTime.UtcNow - StaleDimgPushName)
                            items.Add(new LeftoverItem(LeftoverKind.DimgPushName, tag, image.ID, null, OwnerEnded: true));
                        continue;
                    }
                    var maker = current with { Pid = int.Parse(d.Groups["pid"].Value, System.Globalization.CultureInfo.InvariantCulture),
                        StartTicks = long.Parse(d.Groups["start"].Value, System.Globalization.CultureInfo.InvariantCulture) };
                    items.Add(new LeftoverItem(LeftoverKind.DimgPushName, tag, image.ID, maker, maker.HasEnded(current)));
                }
        return items;
    }

    /// <summary>
    /// Removes the leftovers of processes that have ended (<paramref name="all"/>: also those whose owner is unknown),
    /// and the temp spools they left (<see cref="TempSpool"/>).
    /// </summary>
    public async Task<int> RemoveAsync(IReporter reporter, bool all, bool dryRun, CancellationToken ct, LeftoverScope scope = LeftoverScope.All)
    {
        int removed = 0;
        foreach (var (path, pid) in scope.HasFlag(LeftoverScope.Containers) ? TempSpool.FindEnded() : [])
        {
            reporter.Removal(new RemovalEvent(RemovalEvent.Removing(dryRun), path, $"left by dapp process {pid}, which has ended", "leftover spool"));
            if (dryRun) continue;
            File.Delete(path);
            removed++;
        }
        foreach (var item in await FindAsync(ct, scope))
        {
            var owner = item.Owner;
            if (!item.OwnerEnded || (!all && owner is null && item.Kind == LeftoverKind.Container))
            {
                if (all && owner is not null)
                    reporter.Removal(new RemovalEvent(RemovalAction.Keep, item.Name, $"made by dapp process {owner.Pid} on {owner.Host}, still running (or on another host)", item.What));
                continue;
            }
            reporter.Removal(new RemovalEvent(RemovalEvent.Removing(dryRun), item.Name,
                owner is null ? null : $"left by dapp process {owner.Pid}, which has ended", $"leftover {item.What}"));
            if (dryRun) continue;
            if (item.Kind == LeftoverKind.Container) await engine.RemoveContainerAsync(item.Id, ct);
            else await engine.RemoveImageAsync(item.Name, force: false, ct);
            removed++;
        }
        return removed;
    }
}
