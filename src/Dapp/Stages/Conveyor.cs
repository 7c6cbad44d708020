using Dapp.Config;

namespace Dapp.Stages;

/// <summary>A stage of a conveyor with its signature (an empty stage carries the previous stage's signature).</summary>
public sealed record ConveyorStage(Stage Stage, string Signature)
{
    /// <summary>The inputs of its signature (none for an empty stage), as the stage image records them.</summary>
    public IReadOnlyList<StageInput> Inputs { get; init; } = [];

    public StageName Name => Stage.Name;
    public bool IsEmpty => Stage.IsEmpty;
}

/// <summary>The ordered stages of one dimg or artifact, with their signatures.</summary>
public sealed class Conveyor
{
    internal Conveyor(ImageConfig image, IReadOnlyList<ConveyorStage> allStages, IReadOnlyList<Conveyor> dependencies, IReadOnlyList<Git.GitPath> gitPaths)
    {
        Image = image;
        AllStages = allStages;
        Dependencies = dependencies;
        GitPaths = gitPaths;
    }

    /// <summary>The image's git paths, resolved to their current commits.</summary>
    public IReadOnlyList<Git.GitPath> GitPaths { get; }

    public ImageConfig Image { get; }

    /// <summary>What the stages it builds record as theirs (<c>dapp-stage-of</c>): <c>dimg/NAME</c> (<c>dimg/</c> when nameless) or <c>artifact/NAME</c>.</summary>
    public string Key => $"{(Image.IsArtifact ? "artifact" : "dimg")}/{Image.Name}";

    /// <summary>Every stage of the kind's order, empty ones included.</summary>
    public IReadOnlyList<ConveyorStage> AllStages { get; }

    /// <summary>The stages that produce an image, in order: what a build walks.</summary>
    public IReadOnlyList<ConveyorStage> Stages => AllStages.Where(s => !s.IsEmpty).ToList();

    /// <summary>The conveyors whose images this one needs to build: its fromDimg/fromDimgArtifact base and imported artifacts.</summary>
    public IReadOnlyList<Conveyor> Dependencies { get; }

    public FromStage From => (FromStage)AllStages[0].Stage;

    public string LastSignature => AllStages[^1].Signature;

    /// <summary>The signature of what the stage at <paramref name="index"/> of <see cref="Stages"/> is built on: the stage before it, a fromDimg's last stage, or none.</summary>
    public string? ParentSignature(int index) => index > 0 ? Stages[index - 1].Signature : From.BaseConveyor?.LastSignature;

    /// <summary>The signature of what a stage is built on (<see cref="ParentSignature(int)"/>).</summary>
    public string? ParentSignature(ConveyorStage stage)
    {
        var stages = Stages;
        for (int i = 0; i < stages.Count; i++)
            if (ReferenceEquals(stages[i], stage)) return ParentSignature(i);
        throw new ArgumentException($"{stage.Name.DappName()} is not a stage of {Image.DisplayName}", nameof(stage));
    }

    /// <summary>The signature of a stage by name; an empty stage has the signature of the last non-empty stage before it.</summary>
    public string SignatureOf(StageName name) =>
        AllStages.FirstOrDefault(s => s.Name == name)?.Signature
        ?? throw new DappException($"{Image.DisplayName} has no stage '{name.DappName()}' (stages: {string.Join(", ", AllStages.Select(s => s.Name.DappName()))})");

    /// <summary>The conveyors with everything they are built from: fromDimg bases and imported artifacts, transitively.</summary>
    public static IReadOnlyList<Conveyor> WithDependencies(IEnumerable<Conveyor> conveyors)
    {
        var result = new List<Conveyor>();
        var pending = new Queue<Conveyor>(conveyors);
        while (pending.TryDequeue(out var conveyor))
        {
            if (result.Contains(conveyor)) continue;
            result.Add(conveyor);
            foreach (var dependency in conveyor.Dependencies) pending.Enqueue(dependency);
        }
        return result;
    }
}
