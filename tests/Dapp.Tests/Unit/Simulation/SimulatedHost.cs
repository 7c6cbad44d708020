using Dapp.Build;
using Dapp.Config;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Storage;
using Docker.DotNet.Models;
using Dapp.Transfer;

namespace Dapp.Tests.Unit.Simulation;

/// <summary>
/// One build host of the simulation: the real <see cref="ConveyorBuilder"/> and <see cref="StageClaims"/> (over the
/// in-memory registry's HTTP API) with an engine of its own in memory. Building a stage takes seeded simulated time
/// and commits a new image on the one it was built from (a new top layer: outputs are not reproducible, so every
/// build of a stage is a different copy); the stages storage publishes as RegistryStagesStorage does, check, upload,
/// check, write, each step a registry round trip, and takes a stage only on the registry's copy of its parent.
/// </summary>
public sealed class SimulatedHost : ILocalStages, IStageBuilder, IStagesStorage, IBaseImages, IHostLocks
{
    private readonly SimulatedTime _time;
    private readonly SimulatedRegistry _registry;
    private readonly Random _random;
    private readonly Dictionary<string, SimImage> _images = new();
    private readonly Dictionary<string, SemaphoreSlim> _locks = new();
    private readonly List<string> _log;
    private int _layers;

    public SimulatedHost(SimulatedTime time, SimulatedRegistry registry, string name, int seed, List<string> log)
    {
        _time = time;
        _registry = registry;
        _random = new Random(seed);
        _log = log;
        Context = time.NewHost(name);
        Name = name;
    }

    public string Name { get; }
    public HostContext Context { get; }
    public RecordingReporter Reporter { get; } = new();

    /// <summary>Stage images this host committed (builds that ran to their end).</summary>
    public List<string> Commits { get; } = [];

    /// <summary>Stage builds this host started (a build the settle check stops is started, not committed).</summary>
    public int Starts { get; private set; }

    /// <summary>Each stage build takes from 1 s to this long (at random, seeded).</summary>
    public TimeSpan MaxBuildTime { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The publication of this stage fails once, as a registry that drops the connection for good would.</summary>
    public string? FailPublicationOf { get; set; }

    /// <summary>Runs <c>dimg build --stages-storage</c> on this host.</summary>
    public Task<bool> BuildAsync(IReadOnlyList<Conveyor> conveyors, TimeSpan claimTtl, bool claims = true) => Context.Start(async () =>
    {
        using var client = new RegistryClient(new RegistryClientOptions { Network = _registry.Network, MaxRetries = 0 });
        var repository = RepositoryName.Parse($"{SimulatedRegistry.Host}/{SimulatedRegistry.Repository}");
        var stageClaims = claims
            ? new StageClaims(new RemoteRepository(client, repository), claimTtl, Reporter.Warning, async (signature, ct) => (await LookUpAsync([signature], ct)).Count > 0, time: _time.Clock)
            : null;
        var options = new BuildOptions { LockTimeout = TimeSpan.FromHours(1) };
        await new ConveyorBuilder(this, this, this, stageClaims, this, options, Reporter, this, _time.Clock).BuildAllAsync(conveyors, default);
        return true;
    });

    public SimImage? Image(string signature) => _images.GetValueOrDefault(signature);

    // The engine: ILocalStages.
    public string Project => "sim";
    public string ImageName(string signature) => $"dimgstage-sim:{signature}";
    public Task<bool> ExistsAsync(string signature, CancellationToken ct) => Task.FromResult(_images.ContainsKey(signature));
    public Task<ImageInspectResponse?> InspectAsync(string signature, CancellationToken ct) =>
        Task.FromResult(_images.TryGetValue(signature, out var image) ? new ImageInspectResponse { ID = image.Id, Config = new DockerOCIImageConfig() } : null);
    Task<IReadOnlySet<string>> ILocalStages.LookUpAsync(IReadOnlyCollection<string> signatures, CancellationToken ct) =>
        Task.FromResult<IReadOnlySet<string>>(signatures.Where(_images.ContainsKey).ToHashSet());

    // Building: IStageBuilder and IBaseImages.
    public async Task BuildAsync(Conveyor conveyor, ConveyorStage stage, string previousImage, CancellationToken ct, Func<CancellationToken, Task>? beforeCommit = null)
    {
        var previous = previousImage.StartsWith("dimgstage-sim:", StringComparison.Ordinal)
            ? _images[previousImage["dimgstage-sim:".Length..]]
            : new SimImage("base", ["base"]);
        Starts++;
        await Task.Delay(TimeSpan.FromMilliseconds(1000 + _random.NextDouble() * (MaxBuildTime.TotalMilliseconds - 1000)), _time.Clock, ct);
        if (beforeCommit is not null) await beforeCommit(ct);
        var layer = $"{Name}-{++_layers}";
        _images[stage.Signature] = new SimImage(layer, [.. previous.Layers, layer]);
        Commits.Add(stage.Signature);
        _log.Add($"{_time.Elapsed.TotalMilliseconds:0} {Name} commit {stage.Name.DappName()} {layer}");
    }

    public Task CheckAnsibleTasksAsync(IReadOnlyList<AnsibleTask> tasks, CancellationToken ct) => Task.CompletedTask;
    public Task EnsureAsync(string image, Action pulling, CancellationToken ct) => Task.CompletedTask;

    // The host's locks: IHostLocks.
    public async Task<IDisposable> AcquireAsync(string name, TimeSpan timeout, Action onWaiting, CancellationToken ct)
    {
        if (!_locks.TryGetValue(name, out var gate)) _locks[name] = gate = new SemaphoreSlim(1, 1);
        await gate.WaitAsync(ct);
        return new Release(gate);
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }

    // The registry as a stages storage: IStagesStorage.
    public string Location => $"{SimulatedRegistry.Host}/{SimulatedRegistry.Repository}";

    public async Task<IReadOnlySet<string>> LookUpAsync(IReadOnlyCollection<string> signatures, CancellationToken ct)
    {
        await _registry.DelayAsync(ct);
        return signatures.Where(_registry.Stages.ContainsKey).ToHashSet();
    }

    public async Task<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string signature, CancellationToken ct)
    {
        await _registry.DelayAsync(ct);
        return _registry.Stages.ContainsKey(signature) ? new Dictionary<string, string>() : null;
    }

    public async Task FetchAsync(IReadOnlyList<string> signatures, ITransferDisplay display, CancellationToken ct)
    {
        foreach (var signature in signatures)
        {
            await _registry.DelayAsync(ct);
            _images[signature] = _registry.Stages.GetValueOrDefault(signature) ?? throw new DappException($"stage {signature} is not in {Location}");
        }
    }

    public async Task<PublishResult> PublishAsync(string signature, string? parent, ITransferDisplay display, CancellationToken ct)
    {
        var local = _images[signature];
        await _registry.DelayAsync(ct);
        if (_registry.Stages.TryGetValue(signature, out var there)) return there == local ? PublishResult.AlreadyThere : PublishResult.OtherCopyThere;
        if (parent is not null && (!_registry.Stages.TryGetValue(parent, out var stored) || !local.IsBuiltOn(stored))) return PublishResult.NotOnStoredParent;
        await _registry.DelayAsync(ct); // the upload
        if (FailPublicationOf == signature)
        {
            FailPublicationOf = null;
            throw new DappException($"push {signature}: connection reset by the registry");
        }
        await _registry.DelayAsync(ct);
        if (_registry.Stages.TryGetValue(signature, out there)) return there == local ? PublishResult.AlreadyThere : PublishResult.OtherCopyThere;
        await _registry.DelayAsync(ct);
        // Not conditional: a host that checked at the same moment may overwrite it, as on a real registry.
        _registry.Stages[signature] = local;
        _log.Add($"{_time.Elapsed.TotalMilliseconds:0} {Name} publish {signature[..8]} {local.Id}");
        return PublishResult.Published;
    }

    public async Task<bool> SyncLocalCopyAsync(string signature, ITransferDisplay display, CancellationToken ct)
    {
        await _registry.DelayAsync(ct);
        if (_images.TryGetValue(signature, out var local) && _registry.Stages.GetValueOrDefault(signature) == local) return false;
        await FetchAsync([signature], display, ct);
        return true;
    }

    public Task<bool> TagAsync(string signature, string target, string tagScheme, bool dryRun, CancellationToken ct) => throw new NotSupportedException();
}
