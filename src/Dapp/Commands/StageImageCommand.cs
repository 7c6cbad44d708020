using Dapp.Stages;

namespace Dapp.Commands;

/// <summary><c>dapp dimg stage image [DIMG] --stage STAGE</c>: the local image name of a stage.</summary>
public static class StageImageCommand
{
    public static string Run(DappProject project, IReadOnlyCollection<string> patterns, string stage)
    {
        var conveyor = SingleDimg.Select(project, patterns);
        var name = StageNames.Parse(stage)
            ?? throw new DappException($"--stage: unknown stage '{stage}' (stages: {string.Join(", ", conveyor.AllStages.Select(s => s.Name.DappName()))})");
        return project.Stages.ImageName(conveyor.SignatureOf(name));
    }
}

/// <summary>Commands that act on exactly one dimg.</summary>
public static class SingleDimg
{
    public static Conveyor Select(DappProject project, IReadOnlyCollection<string> patterns)
    {
        var conveyors = project.SelectConveyors(patterns);
        if (conveyors.Count != 1)
            throw new DappException($"This command needs exactly one dimg; {conveyors.Count} match: {string.Join(", ", conveyors.Select(c => c.Image.DisplayName))}. Name one.");
        return conveyors[0];
    }
}
