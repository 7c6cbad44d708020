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
            : StageImageCommand.ImageOf(project, conveyor, stage);
        if (!await project.Engine.ImageExistsAsync(image, ct))
            throw new DappException($"Dimg hasn't been built yet: {conveyor.Image.DisplayName} ({image} is missing; run dapp dimg build first)");

        // Neither docker options nor a command: dapp's default, an interactive shell that goes away afterwards.
        IReadOnlyList<string> args = dockerArgs.Count == 0 && command.Count == 0
            ? ["run", "-ti", "--rm", .. Build.Introspection.Shell(image)]
            : ["run", .. dockerArgs, image, .. command];
        info(project.Engine.CliCommandLine(args));
        if (dryRun) return 0;
        return await project.Engine.RunCliAsync(args, ct);
    }
}
