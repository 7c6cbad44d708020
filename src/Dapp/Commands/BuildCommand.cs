using Dapp.Build;
using Dapp.Reporting;

namespace Dapp.Commands;

/// <summary><c>dapp dimg build [DIMG...]</c>.</summary>
public static class BuildCommand
{
    public static async Task RunAsync(DappProject project, IReadOnlyCollection<string> patterns, BuildOptions options, IReporter reporter, CancellationToken ct)
    {
        var conveyors = await project.SelectConveyorsAsync(patterns, ct);
        await project.PrepareEngineAsync(reporter, ct);
        foreach (var conveyor in conveyors)
            foreach (var path in conveyor.GitPaths.Where(p => !p.AddExists))
                reporter.Warning($"{conveyor.Image.DisplayName}: git add '{path.Config.Add}' ({path.Config.Location}) does not exist in {(path.RepositoryName == "own" ? "the project's repository" : path.RepositoryName)} at commit {path.Current[..12]}: this git path adds nothing");
        var tmpDir = Path.Combine(Path.GetTempPath(), $"dapp-{project.Name}-{Guid.NewGuid():N}");
        try
        {
            var mounts = new MountBinds(options.BuildDir ?? project.BuildDir, tmpDir);
            var builder = new ConveyorBuilder(project.Engine, project.Stages, options, reporter, mounts);
            foreach (var conveyor in conveyors)
                await builder.BuildAsync(conveyor, ct);
        }
        finally
        {
            if (Directory.Exists(tmpDir)) Directory.Delete(tmpDir, recursive: true);
        }
    }
}
