using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Registry.Remote.Handlers;
using Dapp.Transfer;
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
    private DappProject(string workDir, string name, Dappfile dappfile, WorkTreeRepository? repository, IDockerEngine engine, ProjectOptions options)
    {
        WorkDir = workDir;
        Name = name;
        Dappfile = dappfile;
        Repository = repository;
        Engine = engine;
        Options = options;
        Stages = new LocalStagesStorage(engine, name);
        GitRepositories = new GitRepositories(workDir, Path.Combine(DappInfo.Home, "git_repo"), new SystemGit(options.SshKeys, DappInfo.Home, options.Environment));
        Conveyors = new ConveyorFactory(dappfile, new GitContext(GitRepositories, StageLabelsAsync, PeekStageLabelsAsync));
    }

    private bool _engineReady;
    private Task _leftoversRemoved = Task.CompletedTask;
    private LeftoverScope _leftoversScanned;
    private RegistryAccess? _stagesAccess;
    private readonly List<RequestCounter> _opened = [];
    private readonly List<RegistryStagesStorage> _storages = [];
    private readonly List<(string Signature, StageTransfer Transfer)> _transfers = [];
    private readonly System.Diagnostics.Stopwatch _stagesClock = new();

    /// <summary>The registry that is this command's stages cache (<c>--stages-storage</c>); null in local mode.</summary>
    public RegistryStagesStorage? StagesStorage { get; private set; }

    public string WorkDir { get; }
    public string Name { get; }
    public Dappfile Dappfile { get; }
    public WorkTreeRepository? Repository { get; }
    public IDockerEngine Engine { get; }
    public ProjectOptions Options { get; }
    public ConveyorFactory Conveyors { get; }
    public GitRepositories GitRepositories { get; }
    public LocalStagesStorage Stages { get; }

    /// <summary>--build-dir, else ~/.dapp/builds/&lt;project&gt;.</summary>
    public string BuildDir => Options.BuildDir ?? Path.Combine(DappInfo.Home, "builds", Name);

    /// <param name="warn">Told what rendering the dappfile warns about (a file <c>.Files.Get</c> cannot read).</param>
    public static async Task<DappProject> LoadAsync(ProjectOptions options, CancellationToken ct, Action<string>? warn = null)
    {
        var workDir = options.ResolveWorkDir();
        foreach (var key in options.SshKeys)
            if (!File.Exists(key)) throw new DappException($"--ssh-key {key}: no such file");
        var dappfile = await DappfileLoader.LoadAsync(workDir, ProjectOptions.FilesRoot(workDir), options.Environment, ct, warn);
        var repository = WorkTreeRepository.Discover(workDir);
        var name = ProjectName.Resolve(options.Name, workDir, repository);
        var engine = options.Engine?.Invoke() ?? DockerEngine.Connect(options.DockerHost, options.Environment);
        return new DappProject(workDir, name, dappfile, repository, engine, options);
    }

    /// <summary>The conveyors of the dimgs selected by the patterns, in dappfile order.</summary>
    public async Task<IReadOnlyList<Conveyor>> SelectConveyorsAsync(IReadOnlyCollection<string> patterns, CancellationToken ct)
    {
        var conveyors = new List<Conveyor>();
        foreach (var dimg in Dappfile.SelectDimgs(patterns)) conveyors.Add(await Conveyors.ForAsync(dimg, ct));
        return conveyors;
    }

    public Task<Conveyor> ConveyorAsync(ImageConfig image, CancellationToken ct) => Conveyors.ForAsync(image, ct);

    /// <summary>
    /// Checks that the engine answers, and removes what killed dapp processes of this project left in it (their build
    /// containers and spools; for a command that pushes or pulls, also the names pushes make): every command that uses
    /// the engine starts here.
    /// </summary>
    /// <param name="forBuild">A build: remove what builds leave beside what it does next (none of it is a stage it
    /// builds on), until <see cref="LeftoversRemovedAsync"/>; a failure to remove one is then a warning. The names
    /// pushes leave are left to the next command that pushes or pulls (bp's push included) and to <c>dimg cleanup</c>.</param>
    public async Task PrepareEngineAsync(IReporter reporter, CancellationToken ct, bool forBuild = false)
    {
        await EnsureEngineAsync(ct);
        var scope = (forBuild ? LeftoverScope.Containers : LeftoverScope.All) & ~_leftoversScanned;
        _leftoversScanned |= scope;
        if (scope == 0)
        {
            await _leftoversRemoved;
            return;
        }
        if (forBuild)
        {
            _leftoversRemoved = RemoveLeftoversBesideAsync(reporter, scope, ct);
            return;
        }
        await _leftoversRemoved;
        await new Leftovers(Engine, Stages).RemoveAsync(reporter, all: false, dryRun: false, ct, scope);
    }

    /// <summary>Checks once that the engine answers, and which one it is (<see cref="Engine.EngineProduct"/>).</summary>
    public async Task EnsureEngineAsync(CancellationToken ct)
    {
        if (_engineReady) return;
        await Engine.PingAsync(ct);
        _engineReady = true;
    }

    /// <summary>The leftovers of ended processes removed, when <see cref="PrepareEngineAsync"/> left that running; never throws.</summary>
    public Task LeftoversRemovedAsync() => _leftoversRemoved;

    private async Task RemoveLeftoversBesideAsync(IReporter reporter, LeftoverScope scope, CancellationToken ct)
    {
        try
        {
            await new Leftovers(Engine, Stages).RemoveAsync(reporter, all: false, dryRun: false, ct, scope);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is DappException or IOException)
        {
            reporter.Warning($"what ended dapp processes left in the engine was not all removed ({e.Message}): dapp dimg cleanup removes it");
        }
    }

    /// <summary>
    /// Opens REPO as the stages storage of this command (distributed mode, docs/distributed.md), before any conveyor is
    /// made: signatures that depend on a stage's labels read them from there when the engine lacks the stage. A build
    /// and a push in one command (bp) share it.
    /// </summary>
    public async Task<RegistryStagesStorage> OpenStagesStorageAsync(RepositoryName repo, RegistryClientOptions options, StagesTransferOptions transfers, IReporter reporter, CancellationToken ct)
    {
        if (StagesStorage is { } open) return open;
        _stagesClock.Start();
        _stagesAccess = await OpenRegistryAsync(repo, options, ct);
        return StagesStorage = RegistryStages(_stagesAccess, transfers, reporter);
    }

    /// <summary>REPO's stages, moved to and from this project's engine.</summary>
    public RegistryStagesStorage RegistryStages(RegistryAccess registry, StagesTransferOptions transfers, IReporter reporter)
    {
        var storage = new RegistryStagesStorage(registry, Stages, Engine, transfers, reporter.Warning);
        lock (_opened) _storages.Add(storage);
        return storage;
    }

    /// <summary>Opens REPO with the registry options and this project's environment (DAPP_INSECURE_REGISTRY, the Docker config).</summary>
    public async Task<RegistryAccess> OpenRegistryAsync(RepositoryName repo, RegistryClientOptions options, CancellationToken ct)
    {
        var registry = await RegistryAccess.OpenAsync(repo, options with { Environment = Options.Environment }, ct);
        lock (_opened) _opened.Add(registry.Client.Requests);
        return registry;
    }

    /// <summary>The requests sent to every registry this command opened, by kind (for --report).</summary>
    public RequestCounts RegistryRequests
    {
        get
        {
            lock (_opened)
                return _opened.Aggregate(RequestCounts.None, (sum, c) => sum.Plus(c.Counts));
        }
    }

    /// <summary>A transfer made outside a stages storage (a dimg image pushed through the engine), by the signature of its stage.</summary>
    public void RecordTransfer(string signature, StageTransfer transfer)
    {
        lock (_opened) _transfers.Add((signature, transfer));
    }

    /// <summary>What moved per stage between the engine and the registries this command opened (for --report).</summary>
    public IReadOnlyDictionary<string, StageTransfer> StageTransfers
    {
        get
        {
            var all = new Dictionary<string, StageTransfer>();
            lock (_opened)
                foreach (var (signature, t) in _storages.SelectMany(s => s.Transfers).Select(kv => (kv.Key, kv.Value)).Concat(_transfers))
                    all[signature] = all.TryGetValue(signature, out var was) ? was.Plus(t) : t;
            return all;
        }
    }

    /// <summary>Why stages are built, against each dimg's earlier build in the engine or in <paramref name="remote"/>.</summary>
    internal RebuildReasons RebuildReasons(RegistryStagesStorage? remote)
    {
        // This job's branch first: its dimg tag is the likeliest earlier build of this branch.
        var branches = TagOptions.CiBranchVariables.Select(Options.Environment).Append(Repository?.Branch)
            .OfType<string>().Where(b => b.Length > 0).Select(Slug.Make).Append("latest").Distinct().ToList();
        return new(new EarlierBuilds(Stages, remote, branches), Engine, Stages);
    }

    /// <summary>One line on what distributed mode cost: stages and layer bytes moved, registry requests, time.</summary>
    public void ReportStagesStorage(IReporter reporter)
    {
        if (StagesStorage is not { } storage) return;
        var t = storage.Totals;
        reporter.Info($"stages storage {storage.Location}: pulled {t.StagesPulled} stage(s), {TransferTotals.Format(t.BytesPulled)}; " +
            $"pushed {t.StagesPushed} stage(s), {TransferTotals.Format(t.BytesPushed)}; {t.Requests} registry request(s) by dapp ({t.RequestKinds}); {_stagesClock.Elapsed.TotalSeconds:0.00} s");
    }

    /// <summary>A stage's labels from the engine, else from the stages storage: a HEAD, and a manifest and config read only when it is there.</summary>
    private async Task<IReadOnlyDictionary<string, string>?> StageLabelsAsync(string signature, CancellationToken ct)
    {
        if (await Stages.GetLabelsAsync(signature, ct) is { } local) return local;
        if (StagesStorage is not { } storage || !(await storage.LookUpAsync([signature], ct)).Contains(signature)) return null;
        return await storage.GetLabelsAsync(signature, ct);
    }

    /// <summary>What <see cref="StageLabelsAsync"/> answers without reading a manifest: all of it without a stages storage, the engine's with one.</summary>
    private async Task<(bool Known, IReadOnlyDictionary<string, string>? Labels)> PeekStageLabelsAsync(string signature, CancellationToken ct)
    {
        if (await Stages.GetLabelsAsync(signature, ct) is { } local) return (true, local);
        return StagesStorage is null ? (true, null) : (false, null);
    }

    public void Dispose()
    {
        _stagesAccess?.Dispose();
        GitRepositories.Dispose();
        Engine.Dispose();
    }
}
