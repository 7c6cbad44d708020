using Dapp.Config;

namespace Dapp.Stages;

/// <summary>Builds the conveyors of a dappfile: each image's stages in order, signatures chained.</summary>
public sealed class ConveyorFactory
{
    private readonly Dappfile _dappfile;
    private readonly Dictionary<ImageConfig, Conveyor> _conveyors = new(ReferenceEqualityComparer.Instance);

    public ConveyorFactory(Dappfile dappfile) => _dappfile = dappfile;

    public Conveyor For(ImageConfig image)
    {
        if (_conveyors.TryGetValue(image, out var existing)) return existing;
        if (image.Git.Count > 0)
            throw new DappException($"{image.DisplayName} ({image.Git[0].Location}): git paths are not supported yet; building git stages is not implemented in this version");

        var baseConveyor = image.FromDimg is { } fd ? For(_dappfile.FindDimg(fd)!)
            : image.FromDimgArtifact is { } fa ? For(_dappfile.FindArtifact(fa)!)
            : null;
        var imports = image.Imports.Select(i => new ResolvedImport(i, For(_dappfile.FindArtifact(i.Artifact)!))).ToList();

        var stages = (image.IsArtifact ? StageNames.ArtifactOrder : StageNames.DimgOrder)
            .Select(name => CreateStage(name, image, baseConveyor, imports));
        var chained = new List<ConveyorStage>();
        string? previous = null;
        foreach (var stage in stages)
        {
            if (!stage.IsEmpty)
            {
                var signature = new SignatureBuilder(stage.Name, previous);
                stage.AddInputs(signature);
                previous = signature.Compute();
            }
            chained.Add(new ConveyorStage(stage, previous!));
        }

        var dependencies = new List<Conveyor>();
        if (baseConveyor is not null) dependencies.Add(baseConveyor);
        dependencies.AddRange(imports.Select(i => i.Artifact).Where(a => !dependencies.Contains(a)));
        var conveyor = new Conveyor(image, chained, dependencies.Distinct().ToList());
        _conveyors[image] = conveyor;
        return conveyor;
    }

    private static Stage CreateStage(StageName name, ImageConfig image, Conveyor? baseConveyor, IReadOnlyList<ResolvedImport> imports) => name switch
    {
        StageName.From => new FromStage(image, baseConveyor),
        StageName.BeforeInstall => new UserCommandsStage(name, UserStage.BeforeInstall, image.Shell),
        StageName.Install => new UserCommandsStage(name, UserStage.Install, image.Shell),
        StageName.BeforeSetup => new UserCommandsStage(name, UserStage.BeforeSetup, image.Shell),
        StageName.Setup => new UserCommandsStage(name, UserStage.Setup, image.Shell),
        StageName.BuildArtifact => new UserCommandsStage(name, UserStage.BuildArtifact, image.Shell),
        StageName.BeforeInstallArtifact or StageName.AfterInstallArtifact or StageName.BeforeSetupArtifact or StageName.AfterSetupArtifact =>
            new ArtifactImportStage(name, imports.Where(i => ArtifactImportStage.For(i.Import.Point) == name).ToList()),
        StageName.DockerInstructions => new DockerInstructionsStage(image.Docker),
        _ => new GitStage(name, image.Git),
    };
}
