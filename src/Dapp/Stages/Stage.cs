namespace Dapp.Stages;

/// <summary>
/// One stage kind of a conveyor. A stage declares when it is empty (it then reuses the previous stage's image and
/// signature), which inputs enter its signature, and what building it does.
/// </summary>
public abstract class Stage
{
    public abstract StageName Name { get; }

    public abstract bool IsEmpty { get; }

    /// <summary>Adds this stage's inputs, beyond the previous signature, to its signature.</summary>
    public abstract void AddInputs(SignatureBuilder signature);

    /// <summary>What building the stage does, on top of the previous stage's image.</summary>
    public virtual StageWork Work => StageWork.None;
}

/// <summary>The build actions of a stage, executed by the Build layer in this order: git, imports, commands or ansible tasks, docker changes.</summary>
public sealed record StageWork(
    IReadOnlyList<string> Commands,
    IReadOnlyList<ResolvedImport> Imports,
    Config.DockerConfig? DockerChanges)
{
    public static StageWork None { get; } = new([], [], null);

    /// <summary>Git paths to put into the image: their tree (archive) or the change since the commit the previous stage recorded (patch).</summary>
    public IReadOnlyList<GitWork> Git { get; init; } = [];

    /// <summary>Ansible tasks to run instead of commands (an image's stages use one builder).</summary>
    public IReadOnlyList<Config.AnsibleTask> AnsibleTasks { get; init; } = [];

    /// <summary>Whether building the stage runs anything in its container (commands or tasks).</summary>
    public bool RunsInstructions => Commands.Count > 0 || AnsibleTasks.Count > 0;
}

public sealed record GitWork(Git.GitPath Path, bool IsArchive);

/// <summary>An import with the conveyor of the artifact it copies from.</summary>
public sealed record ResolvedImport(Config.ImportConfig Import, Conveyor Artifact);
