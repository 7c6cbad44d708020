using Dapp.Stages;

namespace Dapp.Commands;

/// <summary><c>dapp dimg stage image [DIMG] --stage STAGE</c>: the local image name of a stage.</summary>
public static class StageImageCommand
{
    public static async Task<string> RunAsync(DappProject project, IReadOnlyCollection<string> patterns, string stage, CancellationToken ct)
    {
        var conveyor = await SingleDimg.SelectAsync(project, patterns, ct);
        var name = StageNames.Parse(stage)
            ?? throw new DappException($"--stage: unknown stage '{stage}' (stages: {string.Join(", ", conveyor.AllStages.Select(s => s.Name.DappName()))})");
        return project.Stages.ImageName(conveyor.SignatureOf(name));
    }
}

/// <summary>Commands that act on exactly one dimg.</summary>
public static class SingleDimg
{
    public static async Task<Conveyor> SelectAsync(DappProject project, IReadOnlyCollection<string> patterns, CancellationToken ct)
    {
        var conveyors = await project.SelectConveyorsAsync(patterns, ct);
        if (conveyors.Count != 1)
            throw new DappException($"This command needs exactly one dimg; {conveyors.Count} match: {string.Join(", ", conveyors.Select(c => c.Image.DisplayName))}. Name one.");
        return conveyors[0];
    }
}
