using Dapp.Stages;

namespace Dapp.Commands;

/// <summary>A stage's local image, and the dimg it is a stage of (null for the nameless dimg).</summary>
public sealed record StageImage(string? Dimg, string Image);

/// <summary><c>dapp dimg stage image [DIMG] --stage STAGE</c>: the local image name of a stage.</summary>
public static class StageImageCommand
{
    public static async Task<StageImage> RunAsync(DappProject project, IReadOnlyCollection<string> patterns, string stage, CancellationToken ct)
    {
        var conveyor = await SingleDimg.SelectAsync(project, patterns, ct);
        return new StageImage(conveyor.Image.Name, ImageOf(project, conveyor, stage));
    }

    /// <summary>The local image name of a stage of the conveyor, by dapp's stage name.</summary>
    public static string ImageOf(DappProject project, Conveyor conveyor, string stage)
    {
        var name = StageNames.Parse(stage)
            ?? throw new DappException($"--stage: unknown stage '{stage}' (stages: {string.Join(", ", conveyor.AllStages.Select(s => s.Name.DappName()))})");
        return project.Stages.ImageName(conveyor.SignatureOf(name));
    }
}

/// <summary>Commands that act on exactly one dimg.</summary>
internal static class SingleDimg
{
    public static async Task<Conveyor> SelectAsync(DappProject project, IReadOnlyCollection<string> patterns, CancellationToken ct)
    {
        var conveyors = await project.SelectConveyorsAsync(patterns, ct);
        if (conveyors.Count != 1)
            throw new DappException($"This command needs exactly one dimg; {conveyors.Count} match: {string.Join(", ", conveyors.Select(c => c.Image.DisplayName))}. Name one.");
        return conveyors[0];
    }
}
