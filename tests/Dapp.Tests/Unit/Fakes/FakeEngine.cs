using System.Security.Cryptography;
using System.Text;
using Dapp.Engine;
using Dapp.Registry.Names;
using Docker.DotNet.Models;

namespace Dapp.Tests.Unit.Fakes;

/// <summary>
/// An engine in memory, as the Engine API answers: images (IDs, names, configs, layers by diff ID), containers
/// (created, started, exited, removed) and the list filters dapp uses (reference, label, name). Containers run no
/// process: <see cref="Run"/> decides what a started container prints and its exit code. It records every call, so
/// that a test can say what dapp asked of the engine.
/// </summary>
internal sealed class FakeEngine : IDockerEngine
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, FakeImage> _images = new();
    private readonly Dictionary<string, FakeContainer> _containers = new();
    private readonly List<string> _calls = [];
    private int _serial;

    /// <summary>What a started container does: its output lines and exit code (default: nothing, 0).</summary>
    public Func<FakeContainer, (IReadOnlyList<string> Output, long ExitCode)> Run { get; set; } = _ => ([], 0);

    /// <summary>Called as a container starts: a test cancels a build here, or fails the engine.</summary>
    public Action<FakeContainer>? OnStart { get; set; }

    /// <summary>Awaited while a started container runs (after <see cref="OnStart"/>, before it exits): a test holds containers running at once here.</summary>
    public Func<FakeContainer, CancellationToken, Task>? WhileRunning { get; set; }

    /// <summary>When images are made (a test sets it to make builds within one second).</summary>
    public Func<DateTime> Clock { get; set; } = () => DateTime.UtcNow;

    /// <summary>When set, image listings fail with what it returns (an engine that cannot answer).</summary>
    public Func<Exception>? ListImagesFails { get; set; }

    public string Endpoint => "fake://engine";
    public string Shown => Endpoint;

    /// <summary>Every engine call in order: <c>create</c>, <c>start</c>, <c>commit NAME</c>, <c>remove container</c>, ...</summary>
    public IReadOnlyList<string> Calls
    {
        get { lock (_lock) return _calls.ToList(); }
    }

    public IReadOnlyList<FakeContainer> Containers
    {
        get { lock (_lock) return _containers.Values.ToList(); }
    }

    public void Dispose() { }

    /// <summary>A base image, as <c>docker import</c> of a file system would make it.</summary>
    public string AddImage(string name, IDictionary<string, string>? labels = null, IReadOnlyList<string>? env = null)
    {
        lock (_lock)
        {
            var image = NewImage(null, new DockerOCIImageConfig { Labels = labels ?? new Dictionary<string, string>(), Env = env?.ToList() ?? [] }, [Hash($"layer {name}")]);
            Tag(image, Normalize(name));
            return image.Id;
        }
    }

    public FakeImage? Image(string name)
    {
        lock (_lock) return Find(name);
    }

    public IReadOnlyList<string> Tags
    {
        get { lock (_lock) return _images.Values.SelectMany(i => i.Tags).Order(StringComparer.Ordinal).ToList(); }
    }

    public Task PingAsync(CancellationToken ct) => Record("ping");

    public Task<int> RunCliAsync(IReadOnlyList<string> args, CancellationToken ct) => throw new NotSupportedException("the fake engine has no command line client");

    public string CliCommandLine(IReadOnlyList<string> args) => "docker " + string.Join(' ', args);

    public Task<ImageInspectResponse?> InspectImageAsync(string name, CancellationToken ct)
    {
        lock (_lock)
        {
            _calls.Add($"inspect {name}");
            return Task.FromResult(Find(name) is { } image
                ? new ImageInspectResponse
                {
                    ID = image.Id,
                    RepoTags = image.Tags.ToList(),
                    Config = Copy(image.Config),
                    RootFS = new RootFS { Type = "layers", Layers = image.Layers.ToList() },
                    Created = image.Created,
                }
                : null);
        }
    }

    public Task<IReadOnlyList<string>> AncestorIdsAsync(string name, CancellationToken ct)
    {
        lock (_lock)
        {
            var ids = new List<string>();
            for (var image = Find(name); image is not null; image = image.Parent is { } parent ? _images.GetValueOrDefault(parent) : null) ids.Add(image.Id);
            if (ids.Count == 0) throw new EngineNotFoundException($"history of {name}: No such image: {name}");
            return Task.FromResult<IReadOnlyList<string>>(ids);
        }
    }

    public Task<IList<ImagesListResponse>> ListImagesAsync(IDictionary<string, IDictionary<string, bool>> filters, CancellationToken ct)
    {
        lock (_lock)
        {
            _calls.Add("list images");
            if (ListImagesFails is { } fail) throw fail();
            IList<ImagesListResponse> list = _images.Values
                .Where(i => i.Tags.Count > 0 && Matches(filters, "label", l => HasLabel(i.Config.Labels, l)) && Matches(filters, "reference", r => i.Tags.Any(t => ReferenceMatches(t, r))))
                .Select(i => new ImagesListResponse { ID = i.Id, RepoTags = i.Tags.ToList(), Labels = new Dictionary<string, string>(i.Config.Labels ?? new Dictionary<string, string>()),
                    // The engine's listing gives whole seconds (inspect gives the full time).
                    Created = new DateTime(i.Created.Ticks - i.Created.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc), Size = 1024 })
                .ToList();
            return Task.FromResult(list);
        }
    }

    public Task TagAsync(string source, string target, CancellationToken ct)
    {
        lock (_lock)
        {
            _calls.Add($"tag {target}");
            Tag(Find(source) ?? throw new EngineNotFoundException($"tag {source} as {target}: No such image: {source}"), Normalize(target));
        }
        return Task.CompletedTask;
    }

    public Task<bool> RemoveImageAsync(string name, bool force, CancellationToken ct)
    {
        lock (_lock)
        {
            _calls.Add($"remove image {name}");
            if (Find(name) is not { } image) return Task.FromResult(false);
            var tag = Normalize(name);
            if (image.Tags.Remove(tag) && image.Tags.Count > 0 && !force) return Task.FromResult(true);
            var used = _containers.Values.Any(c => c.ImageId == image.Id);
            var hasChildren = _images.Values.Any(i => i.Parent == image.Id);
            if (force) image.Tags.Clear();
            if (!used && !hasChildren && image.Tags.Count == 0) _images.Remove(image.Id);
            return Task.FromResult(true);
        }
    }

    public Task PullAsync(ImageReference image, AuthConfig? auth, CancellationToken ct, Action<LayerProgress>? onProgress = null, bool abandonOnLayerRetry = false,
        LayerProgress? layers = null) => throw new NotSupportedException("the fake engine reaches no registry");

    public Task<string?> PushAsync(ImageReference image, AuthConfig? auth, CancellationToken ct, Action<LayerProgress>? onProgress = null, bool abandonOnLayerRetry = false,
        LayerProgress? layers = null) => throw new NotSupportedException("the fake engine reaches no registry");

    public Task LoadAsync(Stream tar, CancellationToken ct) => throw new NotSupportedException("the fake engine loads no archives");

    public Task<Stream> SaveAsync(string image, CancellationToken ct) => throw new NotSupportedException("the fake engine saves no archives");

    public Task ImportAsync(Stream tar, string target, IList<string> changes, CancellationToken ct)
    {
        AddImage(target);
        return Record($"import {target}");
    }

    public Task<bool> ContainerExistsAsync(string name, CancellationToken ct)
    {
        lock (_lock) return Task.FromResult(FindContainer(name) is not null);
    }

    public Task<IList<ContainerListResponse>> ListContainersAsync(IDictionary<string, IDictionary<string, bool>> filters, CancellationToken ct)
    {
        lock (_lock)
        {
            _calls.Add("list containers");
            IList<ContainerListResponse> list = _containers.Values
                .Where(c => Matches(filters, "label", l => HasLabel(c.Labels, l)) && Matches(filters, "name", n => c.Name.Contains(n, StringComparison.Ordinal)))
                .Select(c => new ContainerListResponse { ID = c.Id, Names = ["/" + c.Name], ImageID = c.ImageId, Image = c.Image, Labels = new Dictionary<string, string>(c.Labels), State = c.State })
                .ToList();
            return Task.FromResult(list);
        }
    }

    public Task<string> CreateContainerAsync(CreateContainerParameters parameters)
    {
        lock (_lock)
        {
            _calls.Add($"create {parameters.Image}");
            var image = Find(parameters.Image) ?? throw new EngineNotFoundException($"create a container from {parameters.Image}: No such image: {parameters.Image}");
            var name = parameters.Name ?? $"fake_{_serial}";
            if (_containers.Values.Any(c => c.Name == name)) throw new EngineConflictException($"create a container from {parameters.Image}: the container name \"/{name}\" is already in use");
            var container = new FakeContainer(Hash($"container {++_serial}"), name, parameters.Image, image.Id,
                new Dictionary<string, string>(parameters.Labels ?? new Dictionary<string, string>()), parameters.Entrypoint?.ToList() ?? [],
                parameters.HostConfig?.Binds?.ToList() ?? [], parameters.User, parameters.WorkingDir);
            _containers[container.Id] = container;
            return Task.FromResult(container.Id);
        }
    }

    public async Task StartContainerAsync(string id, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        FakeContainer container;
        lock (_lock)
        {
            _calls.Add("start");
            container = _containers.GetValueOrDefault(id) ?? throw new EngineNotFoundException($"start container: No such container: {id}");
            container.State = "running";
        }
        OnStart?.Invoke(container);
        ct.ThrowIfCancellationRequested();
        if (WhileRunning is { } running) await running(container, ct);
        var (output, exitCode) = Run(container);
        lock (_lock)
        {
            container.Output = output;
            container.ExitCode = exitCode;
            container.State = "exited";
        }
    }

    public Task<long> WaitContainerAsync(string id, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        lock (_lock) return Task.FromResult((_containers.GetValueOrDefault(id) ?? throw new EngineNotFoundException($"wait for container: No such container: {id}")).ExitCode);
    }

    public Task FollowLogsAsync(string id, Task<long> exit, Action<string> onLine, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        IReadOnlyList<string> output;
        lock (_lock) output = (_containers.GetValueOrDefault(id) ?? throw new EngineNotFoundException($"read container output: No such container: {id}")).Output;
        foreach (var line in output) onLine(line);
        return Task.CompletedTask;
    }

    public Task<string> CommitAsync(string containerId, CommitContainerChangesParameters parameters, string target, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        lock (_lock)
        {
            _calls.Add($"commit {target}");
            var container = _containers.GetValueOrDefault(containerId) ?? throw new EngineNotFoundException($"commit {target}: No such container: {containerId}");
            var parent = _images[container.ImageId];
            var config = new DockerOCIImageConfig
            {
                Env = parameters.Env?.ToList() ?? [],
                Labels = new Dictionary<string, string>(parameters.Labels ?? new Dictionary<string, string>()),
                Cmd = parameters.Cmd?.ToList() ?? [],
                Entrypoint = parameters.Entrypoint?.ToList() ?? [],
                WorkingDir = parameters.WorkingDir ?? "",
                User = parameters.User ?? "",
                ExposedPorts = parameters.ExposedPorts is null ? new Dictionary<string, EmptyStruct>() : new Dictionary<string, EmptyStruct>(parameters.ExposedPorts),
                Volumes = parameters.Volumes is null ? new Dictionary<string, EmptyStruct>() : new Dictionary<string, EmptyStruct>(parameters.Volumes),
                OnBuild = parameters.OnBuild?.ToList() ?? [],
                StopSignal = parameters.StopSignal,
                Healthcheck = parameters.Healthcheck,
            };
            // A container that ran nothing and got nothing copied in changes no file: its commit adds an empty layer, as the engine's does.
            var image = NewImage(parent.Id, config, [.. parent.Layers, Hash($"layer of {containerId} {container.Archives}")]);
            Tag(image, Normalize(target));
            return Task.FromResult(image.Id);
        }
    }

    public Task RemoveContainerAsync(string id, CancellationToken ct)
    {
        lock (_lock)
        {
            _calls.Add("remove container");
            _containers.Remove(id);
        }
        return Task.CompletedTask;
    }

    /// <summary>The engine's archive of a path: here always the directory with one file in it.</summary>
    public Task<Stream> GetArchiveAsync(string containerId, string path, CancellationToken ct)
    {
        var tar = new MemoryStream();
        using (var writer = new System.Formats.Tar.TarWriter(tar, leaveOpen: true))
        {
            var name = Path.GetFileName(path.TrimEnd('/'));
            writer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.Directory, name + "/"));
            writer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, name + "/file") { DataStream = new MemoryStream("x"u8.ToArray()) });
        }
        tar.Position = 0;
        return Task.FromResult<Stream>(tar);
    }

    public Task PutArchiveAsync(string containerId, string path, Stream tar, CancellationToken ct)
    {
        lock (_lock)
        {
            _calls.Add($"put archive {path}");
            (_containers.GetValueOrDefault(containerId) ?? throw new EngineNotFoundException($"write into {path}: No such container: {containerId}")).Archives++;
        }
        return Task.CompletedTask;
    }

    private Task Record(string call)
    {
        lock (_lock) _calls.Add(call);
        return Task.CompletedTask;
    }

    private FakeImage NewImage(string? parent, DockerOCIImageConfig config, IReadOnlyList<string> layers)
    {
        var image = new FakeImage(Hash($"image {++_serial}"), parent, config, layers, Clock());
        _images[image.Id] = image;
        return image;
    }

    private void Tag(FakeImage image, string name)
    {
        foreach (var other in _images.Values) other.Tags.Remove(name);
        image.Tags.Add(name);
    }

    private FakeImage? Find(string name)
    {
        if (_images.TryGetValue(name, out var byId)) return byId;
        var normalized = Normalize(name);
        return _images.Values.FirstOrDefault(i => i.Tags.Contains(normalized))
            ?? (name.Length >= 12 && name.All(char.IsAsciiHexDigitLower) ? _images.Values.FirstOrDefault(i => i.Id["sha256:".Length..].StartsWith(name, StringComparison.Ordinal)) : null);
    }

    private FakeContainer? FindContainer(string nameOrId) =>
        _containers.GetValueOrDefault(nameOrId) ?? _containers.Values.FirstOrDefault(c => c.Name == nameOrId.TrimStart('/'));

    private static string Normalize(string name)
    {
        if (name.StartsWith("sha256:", StringComparison.Ordinal)) return name;
        var slash = name.LastIndexOf('/');
        return name.LastIndexOf(':') > slash || name.Contains('@') ? name : name + ":latest";
    }

    private static bool Matches(IDictionary<string, IDictionary<string, bool>> filters, string key, Func<string, bool> match) =>
        !filters.TryGetValue(key, out var values) || values.Keys.All(match);

    private static bool HasLabel(IDictionary<string, string>? labels, string filter)
    {
        var eq = filter.IndexOf('=');
        return labels is not null && (eq < 0 ? labels.ContainsKey(filter) : labels.TryGetValue(filter[..eq], out var value) && value == filter[(eq + 1)..]);
    }

    /// <summary>The engine's reference filter: a repository matches all its tags, <c>repo:tag</c> that tag.</summary>
    private static bool ReferenceMatches(string tag, string reference) =>
        reference.LastIndexOf(':') > reference.LastIndexOf('/') ? tag == reference : tag.StartsWith(reference + ":", StringComparison.Ordinal);

    private static DockerOCIImageConfig Copy(DockerOCIImageConfig config) => new()
    {
        Env = config.Env?.ToList() ?? [],
        Labels = new Dictionary<string, string>(config.Labels ?? new Dictionary<string, string>()),
        Cmd = config.Cmd?.ToList() ?? [],
        Entrypoint = config.Entrypoint?.ToList() ?? [],
        WorkingDir = config.WorkingDir,
        User = config.User,
        ExposedPorts = config.ExposedPorts,
        Volumes = config.Volumes,
        OnBuild = config.OnBuild,
        StopSignal = config.StopSignal,
        Healthcheck = config.Healthcheck,
    };

    private static string Hash(string text) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

internal sealed class FakeImage(string id, string? parent, DockerOCIImageConfig config, IReadOnlyList<string> layers, DateTime created)
{
    public string Id { get; } = id;
    public string? Parent { get; } = parent;
    public DockerOCIImageConfig Config { get; } = config;
    public IReadOnlyList<string> Layers { get; } = layers;
    public DateTime Created { get; } = created;
    public HashSet<string> Tags { get; } = [];
    public IDictionary<string, string> Labels => Config.Labels ?? new Dictionary<string, string>();
}

internal sealed class FakeContainer(string id, string name, string image, string imageId, Dictionary<string, string> labels, IReadOnlyList<string> entrypoint,
    IReadOnlyList<string> binds, string? user, string? workingDir)
{
    public string Id { get; } = id;
    public string Name { get; } = name;
    public string Image { get; } = image;
    public string ImageId { get; } = imageId;
    public Dictionary<string, string> Labels { get; } = labels;
    public IReadOnlyList<string> Entrypoint { get; } = entrypoint;
    public IReadOnlyList<string> Binds { get; } = binds;
    public string? User { get; } = user;
    public string? WorkingDir { get; } = workingDir;

    /// <summary>The script of a build container: the last word of <c>/bin/sh -ec SCRIPT</c>.</summary>
    public string Script => Entrypoint.Count > 0 ? Entrypoint[^1] : "";

    public string State { get; set; } = "created";
    public IReadOnlyList<string> Output { get; set; } = [];
    public long ExitCode { get; set; }
    public int Archives { get; set; }
}
