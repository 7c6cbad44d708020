using Dapp.Build;
using Dapp.Config;
using Dapp.Reporting;
using Dapp.Git;
using Dapp.Engine;
using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Commands;

/// <summary>A loaded project: its dappfile, name, conveyors, and the engine holding its stages.</summary>
public sealed class DappProject : IDisposable
{
    private DappProject(string workDir, string name, Dappfile dappfile, WorkTreeRepository? repository, DockerEngine engine, ProjectOptions options)
    {
        WorkDir = workDir;
        Name = name;
        Dappfile = dappfile;
        Repository = repository;
        Engine = engine;
        Options = options;
        Stages = new LocalStagesStorage(engine, name);
        GitRepositories = new GitRepositories(workDir, Path.Combine(DappInfo.Home, "git_repo"));
        Conveyors = new ConveyorFactory(dappfile, new GitContext(GitRepositories,
            async (signature, ct) => (await Stages.InspectAsync(signature, ct))?.Config?.Labels?.AsReadOnly()));
    }

    private bool _engineReady;

    public string WorkDir { get; }
    public string Name { get; }
    public Dappfile Dappfile { get; }
    public WorkTreeRepository? Repository { get; }
    public DockerEngine Engine { get; }
    public ProjectOptions Options { get; }
    public ConveyorFactory Conveyors { get; }
    public GitRepositories GitRepositories { get; }
    public LocalStagesStorage Stages { get; }

    /// <summary>--build-dir, else ~/.dapp/builds/&lt;project&gt;.</summary>
    public string BuildDir => Options.BuildDir ?? Path.Combine(DappInfo.Home, "builds", Name);

    public static async Task<DappProject> LoadAsync(ProjectOptions options, CancellationToken ct)
    {
        var workDir = Path.GetFullPath(options.Dir ?? Directory.GetCurrentDirectory());
        if (!Directory.Exists(workDir)) throw new DappException($"--dir {workDir}: no such directory");
        var dappfile = await DappfileLoader.LoadAsync(workDir, options.Environment, ct);
        var repository = WorkTreeRepository.Discover(workDir);
        var name = ProjectName.Resolve(options.Name, workDir, repository);
        return new DappProject(workDir, name, dappfile, repository, DockerEngine.Connect(options.DockerHost), options);
    }

    /// <summary>The conveyors of the dimgs selected by the patterns, in dappfile order.</summary>
    public async Task<IReadOnlyList<Conveyor>> SelectConveyorsAsync(IReadOnlyCollection<string> patterns, CancellationToken ct)
    {
        var conveyors = new List<Conveyor>();
        foreach (var dimg in Dappfile.SelectDimgs(patterns)) conveyors.Add(await Conveyors.ForAsync(dimg, ct));
        return conveyors;
    }

    public Task<Conveyor> ConveyorAsync(ImageConfig image, CancellationToken ct) => Conveyors.ForAsync(image, ct);

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

    /// <summary>
    /// Checks that the engine answers, and removes what killed dapp processes of this project left in it (their build
    /// containers, stage push names): every command that uses the engine starts here.
    /// </summary>
    public async Task PrepareEngineAsync(IReporter reporter, CancellationToken ct)
    {
        // bp is a build and a push: once per command is enough.
        if (_engineReady) return;
        _engineReady = true;
        await Engine.PingAsync(ct);
        await new Leftovers(Engine, Stages).RemoveAsync(reporter, all: false, dryRun: false, ct);
    }

    public void Dispose()
    {
        GitRepositories.Dispose();
        Engine.Dispose();
    }
}
