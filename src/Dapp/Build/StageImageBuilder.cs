using System.Diagnostics;
using System.Text;
using Dapp.Build.Ansible;
using Dapp.Config;
using Dapp.Engine;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;
using Docker.DotNet.Models;

namespace Dapp.Build;

/// <summary>
/// Builds one stage image: a container from the previous stage's image, the stage's imports copied in, its commands
/// (or its ansible tasks, with the toolchain's volume mounted) run under <c>sh -ec</c>, then committed and tagged in
/// one engine call. The container is removed on success, failure and cancellation. A git archive stage with nothing
/// else to do is loaded as a layer instead (<see cref="ArchiveLayer"/>).
/// </summary>
internal sealed class StageImageBuilder(IDockerEngine engine, LocalStagesStorage storage, BuildOptions options, MountBinds mounts, IReporter reporter) : IStageBuilder
{
    private readonly AnsibleToolchain _ansible = new(engine, reporter);
    private readonly ArchiveLayer _archiveLayer = new(engine, reporter);
    private readonly Lock _lock = new();
    /// <summary>Removals of the containers of committed stages, left running beside the next stage (see <see cref="SettledAsync"/>).</summary>
    private readonly List<Task> _removals = [];

    public async Task SettledAsync()
    {
        Task[] removals;
        lock (_lock) removals = _removals.ToArray();
        await Task.WhenAll(removals);
    }

    public Task CheckAnsibleTasksAsync(IReadOnlyList<AnsibleTask> tasks, CancellationToken ct) =>
        tasks.Count == 0 ? Task.CompletedTask : _ansible.CheckAsync(tasks, ct);

    public async Task BuildAsync(Conveyor conveyor, ConveyorStage stage, string previousImage, CancellationToken ct,
        Func<CancellationToken, Task>? beforeCommit = null)
    {
        var previous = await engine.InspectImageAsync(previousImage, ct)
            ?? throw new DappException($"{conveyor.Image.DisplayName}: the image {previousImage} that stage {stage.Name.DappName()} builds on has disappeared");
        var config = previous.Config ?? new DockerOCIImageConfig();
        var work = stage.Stage.Work;
        var runsCommands = work.RunsInstructions;
        var toolchain = work.AnsibleTasks.Count > 0 ? await _ansible.EnsureAsync(ct) : null;
        var binds = mounts.For(conveyor.Image, runsCommands);
        var isArtifact = conveyor.Image.IsArtifact;
        if (options.Introspect.Before(isArtifact, stage.Name))
            await IntrospectAsync(conveyor, $"before stage {stage.Name.DappName()}", previousImage, binds, ct);
        if (ArchiveLayer.Applies(work)
            && await _archiveLayer.TryBuildAsync(previous, work, CommitConfigs.From(config, null, StageLabels(conveyor, stage, GitCommitLabels(work), previous)),
                storage.ImageName(stage.Signature), $"{conveyor.Image.DisplayName}: stage {stage.Name.DappName()}", beforeCommit, ct))
        {
            if (options.Introspect.After(isArtifact, stage.Name))
                await IntrospectAsync(conveyor, $"stage {stage.Name.DappName()}", storage.ImageName(stage.Signature), binds, ct);
            return;
        }
        var gitArchives = new List<Stream>();
        try
        {
            var gitCommands = PrepareGit(work, config.Labels ?? new Dictionary<string, string>(), gitArchives, ct);
            var script = Script(work, mounts.Exports(runsCommands).Concat(gitCommands).ToList(), toolchain);
            var containerId = await engine.CreateContainerAsync(new CreateContainerParameters
            {
                Name = DappContainers.Name(storage.Project),
                Labels = DappContainers.Labels(storage.Project),
                Image = previousImage,
                Entrypoint = ["/bin/sh", "-ec", script ?? "true"],
                // Build commands run as root in /, whatever the image says; the image's own User and WorkingDir are restored at commit.
                User = string.IsNullOrEmpty(config.User) ? null! : "0:0",
                WorkingDir = string.IsNullOrEmpty(config.WorkingDir) ? null! : "/",
                HostConfig = new HostConfig { Binds = binds, NetworkMode = options.Network!, VolumesFrom = toolchain is null ? null! : toolchain.VolumesFrom },
            });
            var committed = false;
            try
            {
                ct.ThrowIfCancellationRequested();
                foreach (var archive in gitArchives) await engine.PutArchiveAsync(containerId, "/", archive, ct);
                if (toolchain is not null)
                {
                    await using var playbook = await AnsibleStage.WorkArchiveAsync(work.AnsibleTasks, ct);
                    await engine.PutArchiveAsync(containerId, "/", playbook, ct);
                }
                var artifactLabels = GitCommitLabels(work);
                foreach (var (import, artifact) in work.Imports)
                    artifactLabels[DappLabels.Artifact(artifact.Image.Name!)] = await CopyImportAsync(containerId, import, artifact, ct);

                var commitConfig = CommitConfigs.From(config, work.DockerChanges, StageLabels(conveyor, stage, artifactLabels, previous));
                if (script is not null)
                {
                    try
                    {
                        await RunAsync(conveyor, stage, containerId, toolchain is null ? null : work.AnsibleTasks, ct);
                    }
                    catch (StageFailedException) when (options.Introspect.OnError || options.Introspect.BeforeError)
                    {
                        if (options.Introspect.BeforeError)
                            await IntrospectAsync(conveyor, $"before failed stage {stage.Name.DappName()}", previousImage, binds, ct);
                        if (options.Introspect.OnError)
                            await IntrospectFailedAsync(conveyor, stage, containerId, commitConfig, binds, ct);
                        throw;
                    }
                }
                if (beforeCommit is not null) await beforeCommit(ct);

                await engine.CommitAsync(containerId, commitConfig, storage.ImageName(stage.Signature), ct);
                committed = true;
                if (options.Introspect.After(isArtifact, stage.Name))
                    await IntrospectAsync(conveyor, $"stage {stage.Name.DappName()}", storage.ImageName(stage.Signature), binds, ct);
            }
            finally
            {
                // A committed stage's container goes while the next stage starts (the build waits for it before it ends);
                // a failed or cancelled one's before the error goes up.
                var removal = engine.RemoveContainerAsync(containerId, CancellationToken.None);
                if (committed) lock (_lock) _removals.Add(removal);
                else await removal;
            }
        }
        finally
        {
            foreach (var archive in gitArchives) await archive.DisposeAsync();
        }
    }

    /// <summary>The commit labels a stage's image records: each git path's current commit.</summary>
    private static Dictionary<string, string> GitCommitLabels(StageWork work)
    {
        var labels = new Dictionary<string, string>();
        foreach (var git in work.Git) labels[git.Path.CommitLabel] = git.Path.Current;
        return labels;
    }

    /// <summary>
    /// Writes each git path's archive, or its patch since the commit recorded in the previous image, to a spool; returns
    /// the commands that finish it (deletions, owners).
    /// </summary>
    private static IReadOnlyList<string> PrepareGit(StageWork work, IDictionary<string, string> previousLabels, List<Stream> spools, CancellationToken ct)
    {
        var commands = new List<string>();
        foreach (var (path, isArchive) in work.Git)
        {
            var from = isArchive ? null : previousLabels.TryGetValue(path.CommitLabel, out var recorded) && path.HasCommit(recorded) ? recorded : null;
            if (!isArchive && from == path.Current) continue;
            var spool = TempSpool.Create("git");
            spools.Add(spool);
            var owner = OwnerSpec(path.Config.Owner, path.Config.Group);
            if (from is null)
            {
                path.WriteArchive(spool, ct);
                if (owner is not null) commands.Add($"chown -R {owner} {ShellQuote(path.Config.To)}");
            }
            else
            {
                var patch = path.WritePatch(from, spool, ct);
                var to = "/" + path.Config.To.Trim('/');
                foreach (var deleted in patch.Deleted)
                {
                    commands.Add($"rm -f {ShellQuote(deleted)}");
                    // Directories left empty by deletions go too, as with git apply; never above `to`.
                    // (A subshell keeps the script one AND list, so sh -e still stops at the first failing command.)
                    commands.Add($"(d=$(dirname {ShellQuote(deleted)}); while [ \"$d\" != {ShellQuote(to)} ] && [ \"$d\" != / ] && rmdir \"$d\" 2>/dev/null; do d=$(dirname \"$d\"); done)");
                }
                if (owner is not null && patch.Written.Count > 0)
                    commands.Add($"chown -h {owner} {string.Join(' ', patch.Written.Select(ShellQuote))}");
            }
            spool.Position = 0;
        }
        return commands;
    }

    private static string? OwnerSpec(string? owner, string? group) =>
        owner is null && group is null ? null : $"{owner ?? ""}{(group is null ? "" : ":" + group)}";

    private static string? Script(StageWork work, IReadOnlyList<string> preparations, ToolchainMounts? ansible)
    {
        var commands = preparations
            .Concat(work.Imports
                .Where(i => i.Import.Owner is not null || i.Import.Group is not null)
                .Select(i => $"chown -R {OwnerSpec(i.Import.Owner, i.Import.Group)} {ShellQuote(i.Import.To)}"))
            .Concat(work.Commands)
            .Concat(ansible is null ? [] : [AnsibleStage.Command(ansible)])
            .ToList();
        return commands.Count == 0 ? null : string.Join(" && ", commands);
    }

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''") + "'";

    private async Task RunAsync(Conveyor conveyor, ConveyorStage stage, string containerId, IReadOnlyList<AnsibleTask>? ansibleTasks, CancellationToken ct)
    {
        await engine.StartContainerAsync(containerId, ct);
        // Asked at once: the exit code comes with the exit, not a round trip after the output ends.
        var exit = engine.WaitContainerAsync(containerId, ct);
        var name = conveyor.Image.DisplayName;
        // ansible-playbook's own errors (a task it cannot read) start with "ERROR! " and go on for a few lines.
        var ansibleError = new StringBuilder();
        await engine.FollowLogsAsync(containerId, exit, line =>
        {
            if (ansibleTasks is not null && (ansibleError.Length > 0 || line.StartsWith("ERROR! ", StringComparison.Ordinal)) && ansibleError.Length < 4096)
                ansibleError.Append(line).Append('\n');
            reporter.BuildOutput(name, line);
        }, ct);
        var exitCode = await exit;
        if (exitCode == 0) return;
        var failed = $"{name}: stage {stage.Name.DappName()} failed";
        if (ansibleTasks is null) throw new StageFailedException($"{failed}: a command exited with code {exitCode}");
        if (await AnsibleStage.ReadFailureAsync(engine, containerId, ct) is { } task)
            throw new StageFailedException($"{failed}: task {(task.Task.Length > 0 ? $"'{task.Task}' " : "")}({task.Module}) failed: {task.Message}");
        var error = ansibleError.ToString();
        var message = error.Length == 0 ? "" : ": " + error["ERROR! ".Length..].Split('\n')[0];
        var at = AnsibleStage.TaskAt(ansibleTasks, error) is { } culprit ? $" (the task at {culprit.Location})" : "";
        throw new StageFailedException($"{failed}: ansible-playbook exited with code {exitCode}{message}{at}");
    }

    private async Task IntrospectAsync(Conveyor conveyor, string what, string image, IEnumerable<string> binds, CancellationToken ct)
    {
        reporter.Info($"{conveyor.Image.DisplayName}: introspecting {what}: a shell in {image} (exit it to go on)");
        await engine.RunCliAsync(Introspection.ShellArgs(image, binds), ct);
    }

    /// <summary>The failed container's state, committed under a name of its own (never a stage's) for the shell, then removed.</summary>
    private async Task IntrospectFailedAsync(Conveyor conveyor, ConveyorStage stage, string containerId, CommitContainerChangesParameters config,
        IEnumerable<string> binds, CancellationToken ct)
    {
        var image = $"dapp-introspect-{storage.Project}:{Guid.NewGuid():N}";
        await engine.CommitAsync(containerId, config, image, ct);
        try
        {
            await IntrospectAsync(conveyor, $"failed stage {stage.Name.DappName()}", image, binds, ct);
        }
        finally
        {
            await engine.RemoveImageAsync(image, force: true, CancellationToken.None);
        }
    }

    private async Task<string> CopyImportAsync(string containerId, ImportConfig import, Conveyor artifact, CancellationToken ct)
    {
        var artifactImage = storage.ImageName(artifact.LastSignature);
        var inspected = await engine.InspectImageAsync(artifactImage, ct)
            ?? throw new DappException($"artifact {artifact.Image.Name}: its image {artifactImage} is missing");
        var source = await engine.CreateIdleContainerAsync(artifactImage, DappContainers.Name(storage.Project, "import"), DappContainers.Labels(storage.Project));
        try
        {
            Stream archive;
            try
            {
                archive = await engine.GetArchiveAsync(source, import.Add, ct);
            }
            catch (DappException e)
            {
                throw new DappException($"import from artifact {import.Artifact} ({import.Location}): {e.Message} in the artifact", e);
            }
            await using var rewritten = await ImportArchive.RewriteAsync(archive, import, ct);
            await engine.PutArchiveAsync(containerId, "/", rewritten, ct);
        }
        finally
        {
            await engine.RemoveContainerAsync(source, CancellationToken.None);
        }
        return inspected.ID;
    }

    /// <param name="previous">What the stage is built on: for a from stage on a base image, that image, recorded with the stage's inputs.</param>
    private Dictionary<string, string> StageLabels(Conveyor conveyor, ConveyorStage stage, IReadOnlyDictionary<string, string> artifactLabels, ImageInspectResponse previous)
    {
        var baseImage = stage.Name == StageName.From && conveyor.From.BaseImage is { } name ? new BaseImageRecord(name, previous.ID) : null;
        var labels = new Dictionary<string, string>
        {
            [DappLabels.Project] = storage.Project,
            [DappLabels.Version] = DappInfo.Version,
            [DappLabels.CacheVersion] = SignatureBuilder.SchemaVersion.ToString(),
            [DappLabels.Dimg] = "false",
            [DappLabels.Stage] = stage.Name.DappName(),
            [DappLabels.StageSignature] = stage.Signature,
            // What it is built on, for the cleanup's keep set: the stage before it, a fromDimg's last stage, or none.
            [DappLabels.ParentSignature] = conveyor.ParentSignature(stage) ?? "",
            [DappLabels.StageOf] = conveyor.Key,
            [StageInputs.Label] = StageInputs.Of(stage.Inputs, baseImage, conveyor.Stages[^1].Name.DappName()).Encode(),
        };
        foreach (var (key, value) in artifactLabels) labels[key] = value;
        return labels;
    }
}

/// <summary>A stage's commands failed: the build stops with this message.</summary>
internal sealed class StageFailedException(string message) : DappException(message);
