using Dapp.Registry.Names;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// The Docker engine as dapp needs it (<see cref="IDockerEngine"/>), through Docker.DotNet. Every failure becomes a <see cref="DappException"/> that names what was being
/// done; "not found" answers become nulls or booleans where callers expect them.
/// </summary>
internal sealed partial class DockerEngine : IDockerEngine
{
    public const string DefaultEndpoint = "unix:///var/run/docker.sock";

    private readonly DockerClient _client;
    private readonly Uri _uri;
    private readonly bool _tls;
    private readonly Lock _productLock = new();
    private Task<Libpod?>? _podman;

    private DockerEngine(DockerClient client, string endpoint, Uri uri, bool tls)
    {
        _client = client;
        Endpoint = endpoint;
        _uri = uri;
        _tls = tls;
    }

    public string Endpoint { get; }

    /// <summary>The endpoint as messages show it: without the credentials a tcp:// URL may carry.</summary>
    public string Shown => UrlCredentials.Redact(Endpoint);

    /// <summary>How long a new engine connection may take to answer before dapp says it does not.</summary>
    public static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(20);

    private static readonly string[] Schemes = ["unix", "tcp", "http", "https", "npipe"];

    /// <summary>
    /// Connects to <paramref name="endpoint"/>, else <c>DOCKER_HOST</c>, else the default socket; over TLS as
    /// <c>DOCKER_TLS_VERIFY</c> and <c>DOCKER_CERT_PATH</c> say (<see cref="EngineTls"/>).
    /// </summary>
    public static DockerEngine Connect(string? endpoint = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        endpoint ??= environment("DOCKER_HOST") is { Length: > 0 } host ? host : DefaultEndpoint;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || !Schemes.Contains(uri.Scheme)
            || (uri.Scheme == "unix" ? uri.AbsolutePath.Length <= 1 : string.IsNullOrEmpty(uri.Host)))
            throw new DappException($"Invalid Docker engine address '{UrlCredentials.Redact(endpoint)}' (DOCKER_HOST): expected unix:///path/to/docker.sock or tcp://HOST:PORT");
        var builder = new DockerClientBuilder().WithEndpoint(uri).WithTimeout(Timeout.InfiniteTimeSpan);
        var tls = EngineTls.For(uri, environment);
        if (tls is not null) builder.WithAuthProvider(tls);
        var client = builder.Build();
        return new DockerEngine(client, endpoint, uri, tls is not null);
    }

    public void Dispose()
    {
        _client.Dispose();
        if (_podman is { IsCompletedSuccessfully: true, Result: { } libpod }) libpod.Dispose();
    }

    /// <summary>
    /// Podman's own API when the engine is Podman (<see cref="EngineProduct"/>), else null: asked once per engine, by
    /// the ping (<see cref="PingAsync"/>) or by the first call that needs to know. The calls Podman's Docker-compatible
    /// API gets wrong go there (docs/compatibility.md "Podman"); nothing above this layer knows which engine it is.
    /// </summary>
    private Task<Libpod?> PodmanAsync()
    {
        lock (_productLock) return _podman ??= DetectAsync();

        async Task<Libpod?> DetectAsync()
        {
            try
            {
                return await IdentifyAsync();
            }
            catch
            {
                lock (_productLock) _podman = null;
                throw;
            }
        }
    }

    /// <summary>
    /// Checks that a Docker Engine API answers at the endpoint and tells which engine it is: <c>GET /_ping</c>'s headers
    /// on a unix socket or plain tcp://, else (TLS, a named pipe: Docker only, Podman's service has neither)
    /// <c>/version</c> through Docker.DotNet, which has the client certificate.
    /// </summary>
    private async Task<Libpod?> IdentifyAsync()
    {
        if (_tls || _uri.Scheme is not ("unix" or "tcp" or "http"))
        {
            VersionResponse version;
            try
            {
                version = await Call("connect", () => _client.System.GetVersionAsync(CancellationToken.None));
            }
            catch (EngineNotFoundException)
            {
                throw new DappException($"{Shown} does not answer as a Docker engine does (GET /version: not found): is DOCKER_HOST right?");
            }
            if (string.IsNullOrEmpty(version.APIVersion)) throw NotAnEngine("no API version");
            return EngineProduct.PodmanVersion(version) is null ? null : Libpod.For(_uri, Shown, _tls);
        }
        using var http = EngineHttp.Client(_uri);
        using var answer = await Call("connect", () => http.GetAsync("_ping", HttpCompletionOption.ResponseHeadersRead, CancellationToken.None));
        if (answer.StatusCode == HttpStatusCode.NotFound) throw NotAnEngine("GET /_ping: not found");
        if (!answer.IsSuccessStatusCode) throw new DappException($"The Docker engine at {Shown} answered GET /_ping with {(int)answer.StatusCode} {answer.ReasonPhrase}");
        if (EngineProduct.ApiVersion(answer.Headers) is null) throw NotAnEngine("no API version");
        return EngineProduct.PodmanVersion(answer.Headers) is null ? null : Libpod.For(_uri, Shown, _tls);
    }

    private DappException NotAnEngine(string why) => new($"{Shown} does not answer as a Docker engine does ({why}): is DOCKER_HOST right?");

    public async Task<bool> LoadSkipsLayersItHasAsync(CancellationToken ct) => await PodmanAsync() is null;

    /// <summary>
    /// The docker command line client in the foreground on this engine (dimg run, introspection): it has this process's
    /// terminal and environment (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH); returns its exit code.
    /// </summary>
    public async Task<int> RunCliAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        System.Diagnostics.ProcessStartInfo start;
        if (await PodmanAsync() is not null)
        {
            // The docker CLI's `run --rm` against Podman's service exits 0 whatever the command's exit code (measured
            // with podman 4.3.1): Podman's own client, on the same service, gives it.
            var podman = Executables.Find("podman") ?? throw new DappException(
                $"The engine at {Shown} is Podman: this needs Podman's command line client on PATH (the docker client loses a --rm container's exit code there)");
            start = new System.Diagnostics.ProcessStartInfo(podman) { UseShellExecute = false };
            foreach (var arg in (string[])["--remote", "--url", Endpoint]) start.ArgumentList.Add(arg);
        }
        else
        {
            var docker = Executables.Find("docker") ?? throw new DappException("this needs the docker command line client on PATH (Debian: apt-get install docker.io)");
            start = new System.Diagnostics.ProcessStartInfo(docker) { UseShellExecute = false };
            if (Endpoint != DefaultEndpoint) start.Environment["DOCKER_HOST"] = Endpoint;
        }
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(start) ?? throw new DappException($"cannot start {start.FileName}");
        await process.WaitForExitAsync(ct);
        return process.ExitCode;
    }

    /// <summary>How <see cref="RunCliAsync"/> runs the client, for --verbose and --dry-run.</summary>
    public string CliCommandLine(IReadOnlyList<string> args) =>
        (_podman is { IsCompletedSuccessfully: true, Result: not null } ? $"podman --remote --url {Shown} "
            : (Endpoint != DefaultEndpoint ? $"DOCKER_HOST={Shown} " : "") + "docker ")
        + string.Join(' ', args.Select(a => a.Any(char.IsWhiteSpace) || a.Length == 0 ? $"'{a}'" : a));

    /// <summary>Checks that a Docker engine answers at the endpoint within <see cref="PingTimeout"/>, and which one it is (<see cref="IdentifyAsync"/>).</summary>
    public async Task PingAsync(CancellationToken ct)
    {
        try
        {
            await PodmanAsync().WaitAsync(PingTimeout, ct);
        }
        catch (TimeoutException)
        {
            throw new DappException($"The Docker engine at {Shown} did not answer within {PingTimeout.TotalSeconds:0} s: is it running, and is DOCKER_HOST right?");
        }
    }

    public async Task<ImageInspectResponse?> InspectImageAsync(string name, CancellationToken ct)
    {
        try
        {
            var image = await ImageCallAsync($"inspect image {name}", () => _client.Images.InspectImageAsync(name, ct), ct);
            if (await PodmanAsync() is not null && image.RepoTags is { } tags) image.RepoTags = PodmanSpecs.Familiar(tags);
            return image;
        }
        catch (EngineNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The IDs of the image and of its ancestors this engine has (committed or pulled whole), nearest first.</summary>
    public async Task<IReadOnlyList<string>> AncestorIdsAsync(string name, CancellationToken ct) =>
        (await ImageCallAsync($"history of {name}", () => _client.Images.GetImageHistoryAsync(name, ct), ct))
            .Select(h => h.ID).Where(id => id is { Length: > 0 } && id != "<missing>")
            // Podman's history names images without the algorithm.
            .Select(PodmanSpecs.WithAlgorithm).ToList();

    /// <summary>
    /// Pulls an image; the engine reports some failures only inside the progress stream, so every message is checked.
    /// With <paramref name="abandonOnLayerRetry"/>, the pull stops as soon as the engine starts its own slow retry of a
    /// layer (fixed waits of 5 s and more, blind to Retry-After), so that the caller can take another path.
    /// </summary>
    /// <param name="layers">Where the layers' progress is kept (a new one when null): the caller reads which layers moved.</param>
    public Task PullAsync(ImageReference image, AuthConfig? auth, CancellationToken ct, Action<LayerProgress>? onProgress = null, bool abandonOnLayerRetry = false,
        LayerProgress? layers = null) =>
        Transfer($"pull {image}", (watcher, token) => _client.Images.CreateImageAsync(
            new ImagesCreateParameters { FromImage = image.Repository.ToString(), Tag = image.Identifier }, auth, watcher, token), onProgress, abandonOnLayerRetry, layers, ct);

    /// <summary>
    /// Pushes an image; like a pull, a failed push is reported only in the progress stream. Returns the digest of the
    /// manifest the engine wrote, as it reports it (null if it did not say).
    /// </summary>
    public async Task<string?> PushAsync(ImageReference image, AuthConfig? auth, CancellationToken ct, Action<LayerProgress>? onProgress = null, bool abandonOnLayerRetry = false,
        LayerProgress? layers = null)
    {
        var watcher = await Transfer($"push {image}", (watcher, token) => _client.Images.PushImageAsync(image.Repository.ToString(), new ImagePushParameters { Tag = image.Identifier },
            auth ?? new AuthConfig(), watcher, token), onProgress, abandonOnLayerRetry, layers, ct);
        return watcher.PushedDigest;
    }

    /// <summary>
    /// How long the engine's pull or push may report nothing before dapp takes it for stalled (a registry that accepted
    /// the connection and stopped answering) and cancels it: the engine itself would wait for ever.
    /// </summary>
    public static readonly TimeSpan TransferStallTimeout = TimeSpan.FromSeconds(25);

    /// <summary>A pull or push: its failures, at the start or in the progress stream, become <see cref="EngineTransferException"/>s.</summary>
    private async Task<TransferWatcher> Transfer(string what, Func<TransferWatcher, CancellationToken, Task> action, Action<LayerProgress>? onProgress,
        bool abandonOnLayerRetry, LayerProgress? layers, CancellationToken ct)
    {
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watcher = new TransferWatcher(onProgress, abandonOnLayerRetry ? abandon.Cancel : null, layers ?? new LayerProgress());
        var stalled = false;
        // Each progress message moves the deadline on; silence for the whole timeout cancels the transfer.
        using var stall = new Timer(_ =>
        {
            stalled = true;
            abandon.Cancel();
        }, null, TransferStallTimeout, Timeout.InfiniteTimeSpan);
        watcher.Activity = () => stall.Change(TransferStallTimeout, Timeout.InfiniteTimeSpan);
        try
        {
            await Call(what, () => action(watcher, abandon.Token));
        }
        catch (Exception) when (stalled && !ct.IsCancellationRequested)
        {
            throw EngineTransferException.Stalled(what, TransferStallTimeout);
        }
        catch (OperationCanceledException) when (watcher.RetryingLayer && !ct.IsCancellationRequested)
        {
            throw EngineTransferException.LayerRetried(what);
        }
        catch (DappException e) when (e is not EngineTransferException)
        {
            throw new EngineTransferException(e.Message, e);
        }
        watcher.ThrowIfFailed(what);
        return watcher;
    }

    /// <summary>Loads images from a docker-save tar stream; failures come only in the progress messages.</summary>
    public async Task LoadAsync(Stream tar, CancellationToken ct)
    {
        string? error = null;
        var progress = new SyncProgress<JSONMessage>(m => error ??= m.Error?.Message);
        await Call("load images", () => _client.Images.LoadImageAsync(new ImageLoadParameters { Quiet = true }, tar, progress, ct));
        if (error is not null) throw new DappException($"load images: {error}");
    }

    /// <summary>Makes an image of one layer from a file system tar stream (docker import), tagged <paramref name="target"/>.</summary>
    public async Task ImportAsync(Stream tar, string target, IList<string> changes, CancellationToken ct)
    {
        var (repository, tag) = SplitTag(target);
        if (await PodmanAsync() is { } podman)
        {
            await podman.ImportAsync(tar, $"{PodmanSpecs.Qualified(repository)}:{tag}", changes, $"import {target}", ct);
            return;
        }
        string? error = null;
        var progress = new SyncProgress<JSONMessage>(m => error ??= m.Error?.Message);
        await Call($"import {target}", () => _client.Images.CreateImageAsync(
            new ImagesCreateParameters { FromSrc = "-", Repo = repository, Tag = tag, Changes = changes }, tar, null, progress, ct));
        if (error is not null) throw new DappException($"import {target}: {error}");
    }

    public async Task<bool> ContainerExistsAsync(string name, CancellationToken ct)
    {
        try
        {
            await Call($"inspect container {name}", () => _client.Containers.InspectContainerAsync(name, ct));
            return true;
        }
        catch (EngineNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The image as a docker-save tar stream.</summary>
    public Task<Stream> SaveAsync(string image, CancellationToken ct) => Call($"save {image}", () => _client.Images.SaveImageAsync(image, ct));

    /// <summary>Chain IDs of a layer stack: the first is its diff ID, each next one sha256("previous diff").</summary>
    public static IReadOnlyList<string> ChainIds(IEnumerable<string> diffIds)
    {
        var chains = new List<string>();
        foreach (var diffId in diffIds)
            chains.Add(chains.Count == 0 ? diffId
                : "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes($"{chains[^1]} {diffId}"))));
        return chains;
    }

    public Task TagAsync(string source, string target, CancellationToken ct)
    {
        var (repository, tag) = SplitTag(target);
        return ImageCallAsync($"tag {source} as {target}", async () =>
        {
            await _client.Images.TagImageAsync(source, new ImageTagParameters { RepositoryName = repository, Tag = tag }, ct);
            return true;
        }, ct);
    }

    /// <summary>Removes an image reference (or image); false when it did not exist.</summary>
    public async Task<bool> RemoveImageAsync(string name, bool force, CancellationToken ct)
    {
        try
        {
            await Call($"remove image {name}", () => _client.Images.DeleteImageAsync(name,
                new ImageDeleteParameters { Force = force, NoPrune = false }, ct));
            return true;
        }
        catch (EngineNotFoundException)
        {
            return false;
        }
    }

    public async Task<IList<ImagesListResponse>> ListImagesAsync(IDictionary<string, IDictionary<string, bool>> filters, CancellationToken ct)
    {
        var images = await ImageCallAsync("list images", () => _client.Images.ListImagesAsync(new ImagesListParameters { All = false, Filters = filters }, ct), ct);
        if (await PodmanAsync() is null) return images;
        foreach (var image in images)
            if (image.RepoTags is { } tags) image.RepoTags = PodmanSpecs.Familiar(tags);
        return images.Where(i => Filters.MatchesLabels(filters, i.Labels)).ToList();
    }

    public async Task<IList<ContainerListResponse>> ListContainersAsync(IDictionary<string, IDictionary<string, bool>> filters, CancellationToken ct)
    {
        var containers = await Call("list containers", () => _client.Containers.ListContainersAsync(new ContainersListParameters { All = true, Filters = filters }, ct));
        return await PodmanAsync() is null ? containers : containers.Where(c => Filters.MatchesLabels(filters, c.Labels)).ToList();
    }

    /// <summary>
    /// Creates a container; not cancellable: a creation cancelled in flight can still be carried out by the engine,
    /// leaving a container whose ID the caller never learns and so cannot remove (a leak seen on Ctrl-C). The caller
    /// gets the ID and meets the cancellation in its next call, inside the try whose finally removes the container.
    /// </summary>
    public async Task<string> CreateContainerAsync(CreateContainerParameters parameters)
    {
        var what = $"create a container from {parameters.Image}";
        if (await PodmanAsync() is not { } podman)
            return (await Call(what, () => _client.Containers.CreateContainerAsync(parameters, CancellationToken.None))).ID;
        // By ID: libpod resolves a short name its own way (localhost/, search registries), not as the compat API stored it.
        var image = await InspectImageAsync(parameters.Image, CancellationToken.None);
        var imageEnv = parameters.Env is null ? image?.Config?.Env : null;
        var volumes = new List<PodmanSpecs.VolumeMount>();
        foreach (var from in parameters.HostConfig?.VolumesFrom ?? [])
        {
            var (container, options) = from.Split(':') is [var name, .. var rest] ? (name, rest) : (from, []);
            var mounts = (await Call($"{what}: inspect container {container}", () => _client.Containers.InspectContainerAsync(container, CancellationToken.None))).Mounts ?? [];
            volumes.AddRange(mounts.Where(m => m.Type == "volume")
                .Select(m => new PodmanSpecs.VolumeMount(m.Source, m.Destination, options.Contains("ro") || !m.RW)));
        }
        var spec = PodmanSpecs.CreateSpec(parameters, imageEnv, volumes);
        if (image?.ID is { Length: > 0 } id) spec["image"] = id;
        var created = await podman.CreateContainerAsync(spec, what);
        if (parameters.Volumes is { Count: > 0 }) await podman.FillVolumesAsync(created, $"{what}: fill its volumes", CancellationToken.None);
        return created;
    }

    public Task StartContainerAsync(string id, CancellationToken ct) =>
        Call("start container", () => _client.Containers.StartContainerAsync(id, new ContainerStartParameters(), ct));

    public async Task<long> WaitContainerAsync(string id, CancellationToken ct)
    {
        if (await PodmanAsync() is not { } podman)
            return (await Call("wait for container", () => _client.Containers.WaitContainerAsync(id, ct))).StatusCode;
        // Podman (4.3.1) may leave a wait unanswered after the container has exited (a build that hung in CI still had
        // three waits open when it was killed): the container's state is also looked at now and then, and an exit
        // seen there ends the wait.
        using var settled = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var wait = podman.WaitAsync(id, "wait for container", settled.Token);
        try
        {
            while (true)
            {
                var pause = Task.Delay(PodmanExitLook, ct);
                if (await Task.WhenAny(wait, pause) == wait) return await wait;
                await pause;
                var state = (await Call("wait for container: inspect it", () => _client.Containers.InspectContainerAsync(id, ct))).State;
                if (state is { Running: false, Status: "exited" or "stopped" }) return state.ExitCode;
            }
        }
        finally
        {
            await settled.CancelAsync();
            _ = wait.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    /// <summary>How often a wait for a container on Podman also looks at the container's state.</summary>
    private static readonly TimeSpan PodmanExitLook = TimeSpan.FromSeconds(2);

    public async Task FollowLogsAsync(string id, Task<long> exit, Action<string> onLine, CancellationToken ct)
    {
        Task<MultiplexedStream> Logs(bool follow, CancellationToken token) => Call("read container output", () => _client.Containers.GetContainerLogsAsync(id,
            new ContainerLogsParameters { Follow = follow, ShowStdout = true, ShowStderr = true }, token));
        var podman = await PodmanAsync() is not null;
        // Podman's follow may stay open after the container has exited, or not answer at all: Podman 4.3 sends the
        // answer's headers with the first line of output, and a container that exits at once without output can leave
        // the request unanswered for ever (builds hung so, waiting for the headers). Once the container has exited, the
        // follow gets a few seconds to end, then the output is read without follow.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (podman)
            _ = exit.ContinueWith(wait =>
            {
                try
                {
                    if (wait.IsCompletedSuccessfully) ended.CancelAfter(PodmanFollowGrace);
                }
                catch (ObjectDisposedException)
                {
                    // the output had ended first
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var given = 0;
        try
        {
            using var following = await Logs(follow: true, ended.Token);
            await ReadLinesAsync(following, line => { given++; onLine(line); }, ended.Token);
            return;
        }
        catch (OperationCanceledException) when (podman && !ct.IsCancellationRequested)
        {
        }
        catch (DappException e) when (podman && given == 0 && e.Message.Contains("no such process", StringComparison.Ordinal))
        {
            // Rootless Podman (4.3.1) can refuse to follow a container that is exiting ("read /proc/PID/cgroup: no such
            // process"): nothing was read yet; its whole output is read below, once it has exited.
        }
        // The container has exited (at once when the follow timed out after its exit).
        await exit.WaitAsync(ct);
        var skipped = 0;
        using var rest = await Logs(follow: false, ct);
        await ReadLinesAsync(rest, line =>
        {
            if (skipped < given) skipped++;
            else onLine(line);
        }, ct);
    }

    /// <summary>How long Podman's follow of a container's output may stay open after the container has exited.</summary>
    private static readonly TimeSpan PodmanFollowGrace = TimeSpan.FromSeconds(5);

    private static async Task ReadLinesAsync(MultiplexedStream stream, Action<string> onLine, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        var decoder = new LineSplitter(onLine);
        while (true)
        {
            var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, ct);
            if (read.EOF) break;
            decoder.Add(buffer.AsSpan(0, read.Count), read.Target == MultiplexedStream.TargetStream.StandardError);
        }
        decoder.Flush();
    }

    /// <summary>Commits a container as <paramref name="target"/>: the image is created and tagged in one engine call.</summary>
    public async Task<string> CommitAsync(string containerId, CommitContainerChangesParameters parameters, string target, CancellationToken ct)
    {
        var (repository, tag) = SplitTag(target);
        parameters.ContainerID = containerId;
        parameters.RepositoryName = repository;
        parameters.Tag = tag;
        parameters.Pause = false;
        if (await PodmanAsync() is not { } podman)
            return (await Call($"commit {target}", () => _client.Images.CommitContainerChangesAsync(parameters, ct))).ID;
        var id = await podman.CommitAsync(containerId, PodmanSpecs.Qualified(repository), tag, PodmanSpecs.CommitChanges(parameters), $"commit {target}", ct);
        // Podman's commit takes the container's settings where no change is given, and some changes it cannot take.
        if (ImageConfigCheck.Mismatch(await InspectImageAsync(target, ct), null, parameters, envOrdered: false, rootIsNoWorkingDir: true) is { } mismatch)
        {
            await RemoveImageAsync(target, force: false, CancellationToken.None);
            throw new DappException($"commit {target}: the Podman engine at {Shown} made an image with {mismatch} than asked: dapp removed it "
                                    + "(docs/compatibility.md \"Podman\" lists what Podman cannot commit)");
        }
        return PodmanSpecs.WithAlgorithm(id);
    }

    public async Task RemoveContainerAsync(string id, CancellationToken ct)
    {
        try
        {
            if (await PodmanAsync() is { } podman) await podman.RemoveContainerAsync(id, "remove container", ct);
            else
                await Call("remove container", () => _client.Containers.RemoveContainerAsync(id,
                    new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, ct));
        }
        catch (EngineNotFoundException)
        {
        }
    }

    public async Task<Stream> GetArchiveAsync(string containerId, string path, CancellationToken ct)
    {
        try
        {
            return (await Call($"read {path}", () => _client.Containers.GetArchiveFromContainerAsync(containerId,
                new ContainerPathStatParameters { Path = path }, false, ct))).Stream
                ?? throw new DappException($"read {path}: the engine sent no archive");
        }
        catch (EngineNotFoundException)
        {
            throw new DappException($"{path} does not exist");
        }
    }

    public Task PutArchiveAsync(string containerId, string path, Stream tar, CancellationToken ct) =>
        Call($"write into {path}", () => _client.Containers.ExtractArchiveToContainerAsync(containerId,
            new CopyToContainerParameters { Path = path, AllowOverwriteDirWithFile = true }, tar, ct));

    public static (string Repository, string Tag) SplitTag(string image)
    {
        var at = image.IndexOf('@');
        if (at >= 0) return (image[..at], image[(at + 1)..]);
        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    /// <summary>
    /// A call on images that can be made again (a read, a tag). Podman (4.3) can fail one while another client tags or
    /// removes an image it meets: it finds the name, then not the image (<c>locating image with ID …: image not known</c>;
    /// containers/podman issues 17515 and 24800); a build failed so while other jobs on the engine tagged and removed
    /// their own names of the same base image (every project's from stage). The call is made again, a few times; an
    /// image that is gone is then not found, as anywhere.
    /// </summary>
    private async Task<T> ImageCallAsync<T>(string what, Func<Task<T>> call, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await Call(what, call);
            }
            catch (DappException e) when (e is not EngineNotFoundException && attempt < PodmanImageRaceAttempts && PodmanImageRace().IsMatch(e.Message))
            {
                if (await PodmanAsync() is null) throw;
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), ct);
            }
        }
    }

    private const int PodmanImageRaceAttempts = 5;

    [System.Text.RegularExpressions.GeneratedRegex("(image|layer) not known")]
    private static partial System.Text.RegularExpressions.Regex PodmanImageRace();

    private async Task Call(string what, Func<Task> action) => await Call(what, async () => { await action(); return true; });

    private async Task<T> Call<T>(string what, Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new EngineNotFoundException($"{what}: {MessageOf(e)}");
        }
        catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            throw new EngineConflictException($"{what}: {MessageOf(e)}");
        }
        catch (DockerApiException e)
        {
            throw new DappException($"{what}: {MessageOf(e)}");
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException or AggregateException or TimeoutException or JsonException
                                       or System.Security.Authentication.AuthenticationException)
        {
            // A request cancelled by Ctrl-C can surface as a broken stream: it is an interruption, not an engine fault.
            if (IsCancellation(e)) throw new OperationCanceledException(what, e);
            var reason = e is JsonException ? "it answered something that is not JSON: is this a Docker engine?"
                : Find<System.Security.Authentication.AuthenticationException>(e) is { } tls
                    ? $"the TLS handshake failed ({tls.Message}): with DOCKER_TLS_VERIFY, the engine's certificate must name the host and be signed by "
                        + "the authority in DOCKER_CERT_PATH/ca.pem, and the engine must accept the client certificate cert.pem there"
                : e.GetBaseException().Message;
            throw new DappException($"Cannot talk to the Docker engine at {Shown} ({what}): {reason}", e);
        }
    }

    private static T? Find<T>(Exception e) where T : Exception
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is T found) return found;
        return null;
    }

    private static bool IsCancellation(Exception e) =>
        Find<OperationCanceledException>(e) is not null || e is AggregateException aggregate && aggregate.InnerExceptions.Any(IsCancellation);

    private static string MessageOf(DockerApiException e)
    {
        try
        {
            using var json = JsonDocument.Parse(e.ResponseBody ?? "");
            if (json.RootElement.TryGetProperty("message", out var message)) return message.GetString() ?? "";
        }
        catch (JsonException)
        {
        }
        return string.IsNullOrWhiteSpace(e.ResponseBody) ? e.StatusCode.ToString() : e.ResponseBody!.Trim();
    }
}

/// <summary>
/// Watches the progress messages of an engine transfer: the engine reports a failed pull or push only there, so the
/// first error is kept; layer progress is summed for the caller. Reports synchronously (see <see cref="SyncProgress{T}"/>).
/// </summary>
internal sealed partial class TransferWatcher(Action<LayerProgress>? onProgress, Action? onLayerRetry, LayerProgress layers) : IProgress<JSONMessage>
{
    /// <summary>A push's last message: <c>TAG: digest: sha256:… size: N</c>.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"digest: (?<digest>sha256:[0-9a-f]{64}) size: \d+$")]
    private static partial System.Text.RegularExpressions.Regex PushedLine();

    /// <summary>The digest of the manifest a push wrote, from its last message.</summary>
    public string? PushedDigest { get; private set; }

    private readonly LayerProgress _layers = layers;
    private string? _error;

    /// <summary>The engine announced a retry of a layer ("Retrying in 5 seconds").</summary>
    public bool RetryingLayer { get; private set; }

    /// <summary>Told of every message: the transfer is alive.</summary>
    public Action? Activity { get; set; }

    public void Report(JSONMessage message)
    {
        Activity?.Invoke();
        _error ??= message.Error?.Message;
        if (message.Status is { } status && PushedLine().Match(status) is { Success: true } pushed) PushedDigest = pushed.Groups["digest"].Value;
        if (message.Status?.StartsWith("Retrying in", StringComparison.Ordinal) == true && !RetryingLayer)
        {
            RetryingLayer = true;
            onLayerRetry?.Invoke();
        }
        if (_layers.Add(message)) onProgress?.Invoke(_layers);
    }

    public void ThrowIfFailed(string what)
    {
        if (_error is not null) throw new EngineTransferException($"{what}: {_error}");
    }
}

/// <summary>The engine answered 404 for the object asked about.</summary>
internal sealed class EngineNotFoundException(string message) : DappException(message);

/// <summary>The engine refused because of the state of an object: a container name already taken, for example.</summary>
internal sealed class EngineConflictException(string message) : DappException(message);
