using System.Formats.Tar;
using System.Security.Cryptography;
using Dapp.Engine;
using Dapp.Reporting;
using Dapp.Stages;
using Docker.DotNet.Models;

namespace Dapp.Build;

/// <summary>
/// The g_a_archive stage made without a container: the git paths' archive becomes the stage's layer as it is, loaded
/// on the previous stage's layers. The engine writes the files once, where a container has them written into it and
/// then read back by the commit's diff (on a repository of 100,000 files, 7 s of the stage's ~45). Only for what a
/// layer can say as it is: no owner or group to set (those are names in the image's own
/// /etc/passwd); with them, or on an engine that does not load the image as written, the stage is built in a container.
/// </summary>
internal sealed class ArchiveLayer(IDockerEngine engine, IReporter reporter)
{
    public static bool Applies(StageWork work) =>
        work.Git.Count > 0 && work.Git.All(g => g.IsArchive && g.Path.Config.Owner is null && g.Path.Config.Group is null)
        && work.Commands.Count == 0 && work.Imports.Count == 0 && work.AnsibleTasks.Count == 0 && work.DockerChanges is null;

    /// <summary>The commit labels the stage records: each git path's current commit.</summary>
    public static IReadOnlyDictionary<string, string> CommitLabels(StageWork work) =>
        work.Git.ToDictionary(g => g.Path.CommitLabel, g => g.Path.Current);

    /// <summary>Makes the image and tags it <paramref name="target"/>; false (and nothing made) when it has to be built in a container.</summary>
    /// <param name="beforeCommit">Awaited before the image is made, as before a commit.</param>
    public async Task<bool> TryBuildAsync(ImageInspectResponse previous, StageWork work, CommitContainerChangesParameters config, string target, string what,
        Func<CancellationToken, Task>? beforeCommit, CancellationToken ct)
    {
        if (!LayerImageConfig.CanCarry(config) || previous.RootFS?.Layers is null) return false;
        await using var spool = TempSpool.Create("layer", shared: true);
        using (var writer = new TarWriter(spool, TarEntryFormat.Pax, leaveOpen: true))
            foreach (var git in work.Git) git.Path.WriteArchive(writer, ct);
        await spool.FlushAsync(ct);
        spool.Position = 0;
        var diffId = "sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(spool, ct));

        if (beforeCommit is not null) await beforeCommit(ct);
        var imageConfig = LayerImageConfig.Write(previous, config, diffId, $"dapp: {what}", DateTimeOffset.UtcNow);
        var layers = previous.RootFS.Layers.Select((_, i) => new SaveArchiveLayer($"{i}.tar", null))
            .Append(new SaveArchiveLayer("layer.tar", () => TempSpool.OpenView(spool))).ToList();
        await SaveArchive.LoadAsync(engine, null, imageConfig, layers, ct);

        var id = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(imageConfig));
        if (Mismatch(await engine.InspectImageAsync(id, ct), previous.RootFS.Layers.Append(diffId).ToList(), config) is { } mismatch)
        {
            await engine.RemoveImageAsync(id, force: false, CancellationToken.None);
            reporter.Warning($"{what}: the engine at {engine.Shown} loaded the stage's layer image with {mismatch}; building the stage in a container instead");
            return false;
        }
        await engine.TagAsync(id, target, ct);
        return true;
    }

    /// <summary>What the engine's image lacks of the one written, or null.</summary>
    internal static string? Mismatch(ImageInspectResponse? image, IReadOnlyList<string> layers, CommitContainerChangesParameters config)
    {
        if (image is null) return "no image under the config's digest";
        if (!(image.RootFS?.Layers ?? []).SequenceEqual(layers)) return "other layers";
        var loaded = image.Config ?? new DockerOCIImageConfig();
        var labels = loaded.Labels ?? new Dictionary<string, string>();
        if (config.Labels.FirstOrDefault(l => !labels.TryGetValue(l.Key, out var value) || value != l.Value) is { Key: not null } missing)
            return $"label {missing.Key} missing or changed";
        static bool Same(IEnumerable<string>? a, IEnumerable<string>? b) => (a ?? []).SequenceEqual(b ?? []);
        if (!Same(loaded.Env, config.Env)) return "another environment";
        if (!Same(loaded.Entrypoint, config.Entrypoint) || !Same(loaded.Cmd, config.Cmd)) return "another entrypoint or command";
        if ((loaded.WorkingDir ?? "") != (config.WorkingDir ?? "") || (loaded.User ?? "") != (config.User ?? "")) return "another working directory or user";
        return null;
    }
}
