using Dapp.Config;

namespace Dapp.Stages;

/// <summary>Builds the conveyors of a dappfile: each image's stages in order, signatures chained.</summary>
public sealed class ConveyorFactory
{
    private readonly Dappfile _dappfile;
    private readonly GitContext? _git;
    private readonly Dictionary<ImageConfig, Conveyor> _conveyors = new(ReferenceEqualityComparer.Instance);

    public ConveyorFactory(Dappfile dappfile, GitContext? git = null)
    {
        _dappfile = dappfile;
        _git = git;
    }

    public async Task<Conveyor> ForAsync(ImageConfig image, CancellationToken ct)
    {
        if (_conveyors.TryGetValue(image, out var existing)) return existing;

        var baseConveyor = image.FromDimg is { } fd ? await ForAsync(_dappfile.FindDimg(fd)!, ct)
            : image.FromDimgArtifact is { } fa ? await ForAsync(_dappfile.FindArtifact(fa)!, ct)
            : null;
        var imports = new List<ResolvedImport>();
        foreach (var import in image.Imports) imports.Add(new ResolvedImport(import, await ForAsync(_dappfile.FindArtifact(import.Artifact)!, ct)));
        var gitPaths = GitPaths(image);

        var (chained, guessed) = await ChainAsync(image, baseConveyor, imports, gitPaths, guess: _git?.PeekStageLabels is not null, ct);
        if (guessed && !await GuessHoldsAsync(chained.Last().Signature, gitPaths, ct))
            (chained, _) = await ChainAsync(image, baseConveyor, imports, gitPaths, guess: false, ct);

        var dependencies = new List<Conveyor>();
        if (baseConveyor is not null) dependencies.Add(baseConveyor);
        dependencies.AddRange(imports.Select(i => i.Artifact).Where(a => !dependencies.Contains(a)));
        var conveyor = new Conveyor(image, chained, dependencies.Distinct().ToList(), gitPaths);
        _conveyors[image] = conveyor;
        return conveyor;
    }

    private IReadOnlyList<Git.GitPath> GitPaths(ImageConfig image)
    {
        if (image.Git.Count == 0) return [];
        if (_git is null) throw new InvalidOperationException("a conveyor with git paths needs a git context");
        return image.Git.Select(g => _git.Repositories.Resolve(g, image.DisplayName)).ToList();
    }

    /// <summary>
    /// The image's stages, signatures chained. With <paramref name="guess"/>, a late git stage whose previous stage's
    /// labels only a registry read would tell is taken as empty (the previous stage recorded the current commits, as
    /// after a build at this commit): Guessed says so, and <see cref="GuessHoldsAsync"/> must confirm it.
    /// </summary>
    private async Task<(List<ConveyorStage> Stages, bool Guessed)> ChainAsync(ImageConfig image, Conveyor? baseConveyor, IReadOnlyList<ResolvedImport> imports,
        IReadOnlyList<Git.GitPath> gitPaths, bool guess, CancellationToken ct)
    {
        var chained = new List<ConveyorStage>();
        var guessed = false;
        string? previous = null;
        foreach (var name in image.IsArtifact ? StageNames.ArtifactOrder : StageNames.DimgOrder)
        {
            Stage stage;
            if (name is StageName.GAPostSetupPatch or StageName.GALatestPatch)
            {
                var (late, wasGuessed) = await CreateLateGitStageAsync(name, gitPaths, previous, guess, ct);
                stage = late;
                guessed |= wasGuessed;
            }
            else stage = CreateStage(name, image, baseConveyor, imports, gitPaths);
            IReadOnlyList<StageInput> inputs = [];
            if (!stage.IsEmpty)
            {
                var signature = new SignatureBuilder(stage.Name, previous);
                stage.AddInputs(signature);
                previous = signature.Compute();
                inputs = signature.Inputs;
            }
            chained.Add(new ConveyorStage(stage, previous!) { Inputs = inputs });
        }
        return (chained, guessed);
    }

    /// <summary>
    /// The guess holds when the last stage of the chain it gave exists and records the current commit of every git
    /// path: what it records comes from the last git stage before it, the one the late stages were taken as patching
    /// nothing over, so they are empty indeed. Reading it costs nothing more: a build reads that stage for its dimg
    /// tag, or finds it local.
    /// </summary>
    private async Task<bool> GuessHoldsAsync(string last, IReadOnlyList<Git.GitPath> paths, CancellationToken ct) =>
        await _git!.StageLabels(last, ct) is { } labels && paths.All(p => labels.GetValueOrDefault(p.CommitLabel) == p.Current);

    /// <summary>The stages that depend on the commits recorded in the previous stage's image, when it is present.</summary>
    private async Task<(Stage Stage, bool Guessed)> CreateLateGitStageAsync(StageName name, IReadOnlyList<Git.GitPath> paths, string? previous, bool guess,
        CancellationToken ct)
    {
        var recorded = new Dictionary<Git.GitPath, string?>();
        var guessed = false;
        if (paths.Count > 0 && previous is not null)
        {
            IReadOnlyDictionary<string, string>? labels;
            if (guess && await _git!.PeekStageLabels!(previous, ct) is { Known: true } peeked) labels = peeked.Labels;
            else if (guess)
            {
                guessed = true;
                labels = paths.ToDictionary(p => p.CommitLabel, p => p.Current);
            }
            else labels = await _git!.StageLabels(previous, ct);
            if (labels is not null)
                foreach (var path in paths)
                    recorded[path] = labels.GetValueOrDefault(path.CommitLabel) is { } sha && path.HasCommit(sha) ? sha : null;
        }
        Stage stage = name == StageName.GAPostSetupPatch ? new GitPostSetupPatchStage(paths, recorded) : new GitLatestPatchStage(paths, recorded);
        return (stage, guessed);
    }

    private static Stage CreateStage(StageName name, ImageConfig image, Conveyor? baseConveyor, IReadOnlyList<ResolvedImport> imports,
        IReadOnlyList<Git.GitPath> gitPaths) => name switch
    {
        StageName.From => new FromStage(image, baseConveyor),
        StageName.BeforeInstall => new UserCommandsStage(name, UserStage.BeforeInstall, image.Instructions),
        StageName.Install => new UserCommandsStage(name, UserStage.Install, image.Instructions),
        StageName.BeforeSetup => new UserCommandsStage(name, UserStage.BeforeSetup, image.Instructions),
        StageName.Setup => new UserCommandsStage(name, UserStage.Setup, image.Instructions),
        StageName.BuildArtifact => new UserCommandsStage(name, UserStage.BuildArtifact, image.Instructions),
        StageName.BeforeInstallArtifact or StageName.AfterInstallArtifact or StageName.BeforeSetupArtifact or StageName.AfterSetupArtifact =>
            new ArtifactImportStage(name, imports.Where(i => ArtifactImportStage.For(i.Import.Point) == name).ToList()),
        StageName.DockerInstructions => new DockerInstructionsStage(image.Docker),
        StageName.GAArchive => new GitArchiveStage(gitPaths),
        _ => new GitPatchStage(name, GitPatchStage.RelatedStage(name), image.Instructions, gitPaths),
    };
}
