using Dapp.Registry.Remote;
using Dapp.Build;
using Dapp.Registry.Names;
using Dapp.Storage;
using Dapp.Reporting;
using Dapp.Transfer;

namespace Dapp.Commands;

/// <summary>
/// <c>dapp dimg build [--stages-storage REPO] [DIMG...]</c>: builds the stages missing from the local engine, or in
/// distributed mode from the local engine and REPO together (docs/distributed.md).
/// </summary>
public static class BuildCommand
{
    public static async Task RunAsync(DappProject project, IReadOnlyCollection<string> patterns, BuildOptions options, StagesStorageOption storage,
        IReporter reporter, CancellationToken ct)
    {
        var remote = storage.Repo is { } repo ? await project.OpenStagesStorageAsync(repo, storage.Registry, storage.Transfers, reporter, ct) : null;
        var conveyors = await project.SelectConveyorsAsync(patterns, ct);
        await project.PrepareEngineAsync(reporter, ct, forBuild: true);
        foreach (var conveyor in conveyors)
            foreach (var path in conveyor.GitPaths.Where(p => !p.AddExists))
                reporter.Warning($"{conveyor.Image.DisplayName}: git add '{path.Config.Add}' ({path.Config.Location}) does not exist in {(path.RepositoryName == "own" ? "the project's repository" : path.RepositoryName)} at commit {path.Current[..12]}: this git path adds nothing");
        var tmpDir = Path.Combine(project.Options.TmpDirPrefix ?? Path.GetTempPath(), $"dapp-{project.Name}-{Guid.NewGuid():N}");
        using var sshAgent = await StartSshAgentAsync(project, reporter, ct);
        try
        {
            var mounts = new MountBinds(options.BuildDir ?? project.BuildDir, tmpDir, sshAgent);
            var claims = remote?.Claims(ClaimTtl(project.Options.Environment), reporter.Warning);
            var baseImages = new BaseImages(project.Engine, (storage.Registry with { Environment = project.Options.Environment }).WithEnvironmentDefaults(),
                storage.Repo?.Registry, reporter.Warning);
            var stageBuilder = new StageImageBuilder(project.Engine, project.Stages, options, mounts, reporter);
            await new ConveyorBuilder(project.Stages, stageBuilder, remote, claims, baseImages, options, reporter, reasons: project.RebuildReasons(remote))
                .BuildAllAsync(conveyors, ct);
        }
        finally
        {
            if (Directory.Exists(tmpDir)) Directory.Delete(tmpDir, recursive: true);
            await project.LeftoversRemovedAsync();
        }
        if (storage.Summary) project.ReportStagesStorage(reporter);
    }

    /// <summary>The agent build commands reach (--ssh-key, else SSH_AUTH_SOCK); a socket can only be mounted from this host into a local engine.</summary>
    private static async Task<SshAgent?> StartSshAgentAsync(DappProject project, IReporter reporter, CancellationToken ct)
    {
        var options = project.Options;
        if (project.Engine.Endpoint.StartsWith("unix://", StringComparison.Ordinal))
            return await SshAgent.StartAsync(options.SshKeys, options.Environment, ct);
        if (options.SshKeys.Count > 0)
            reporter.Warning($"build commands get no ssh-agent: the engine at {project.Engine.Shown} is not on this host, and an agent's socket cannot be mounted into it (--ssh-key still serves git paths)");
        return null;
    }

    /// <summary>How long a claim on a stage lasts unless its holder renews it: DAPP_CLAIM_TTL seconds, default 60.</summary>
    private static TimeSpan ClaimTtl(Func<string, string?> environment)
    {
        if (environment("DAPP_CLAIM_TTL") is not { Length: > 0 } text) return TimeSpan.FromSeconds(60);
        if (!int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds is < 3 or > 86400)
            throw new DappException($"DAPP_CLAIM_TTL '{text}': expected a number of seconds from 3 to 86400");
        return TimeSpan.FromSeconds(seconds);
    }
}

/// <summary><c>--stages-storage REPO</c>: the registry that is the stages cache (null: the local engine alone).</summary>
public sealed record StagesStorageOption(RepositoryName? Repo, RegistryClientOptions Registry, StagesTransferOptions Transfers)
{
    public static StagesStorageOption Local { get; } = new(null, new RegistryClientOptions(), new StagesTransferOptions());

    /// <summary>Whether this command prints the storage summary (bp prints it once, after the push).</summary>
    public bool Summary { get; init; } = true;
}
