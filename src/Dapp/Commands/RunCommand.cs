using System.Diagnostics;
using Dapp.Stages;

namespace Dapp.Commands;

/// <summary><c>dapp dimg run [DIMG] [DOCKER ARGS] [-- CMD...]</c>: <c>docker run</c> on a dimg's stage image.</summary>
public static class RunCommand
{
    public static async Task<int> RunAsync(DappProject project, IReadOnlyCollection<string> patterns, string? stage,
        IReadOnlyList<string> dockerArgs, IReadOnlyList<string> command, bool dryRun, Action<string> info, CancellationToken ct)
    {
        var conveyor = await SingleDimg.SelectAsync(project, patterns, ct);
        var image = stage is null
            ? project.Stages.ImageName(conveyor.LastSignature)
            : await StageImageCommand.RunAsync(project, patterns, stage, ct);
        if (!await project.Engine.ImageExistsAsync(image, ct))
            throw new DappException($"Dimg hasn't been built yet: {conveyor.Image.DisplayName} ({image} is missing; run dapp dimg build first)");

        var docker = Executables.Find("docker") ?? throw new DappException("dimg run needs the docker command line client on PATH");
        var start = new ProcessStartInfo(docker) { UseShellExecute = false };
        if (project.Engine.Endpoint != Engine.DockerEngine.DefaultEndpoint) start.Environment["DOCKER_HOST"] = project.Engine.Endpoint;
        foreach (var arg in new[] { "run" }.Concat(dockerArgs).Append(image).Concat(command)) start.ArgumentList.Add(arg);
        info($"{docker} {string.Join(' ', start.ArgumentList)}");
        if (dryRun) return 0;
        using var process = Process.Start(start) ?? throw new DappException($"cannot start {docker}");
        await process.WaitForExitAsync(ct);
        return process.ExitCode;
    }
}
