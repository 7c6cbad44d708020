using Dapp.Registry.Names;
using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// The engine operations Build, Storage, Transfer and Cleanup use. <see cref="DockerEngine"/> is the one real
/// implementation; unit tests put an in-memory engine here. Failures are <see cref="DappException"/>s naming what was
/// being done; "not found" answers are nulls or booleans where callers expect them.
/// </summary>
public interface IDockerEngine : IDisposable
{
    /// <summary>The endpoint (DOCKER_HOST or the default socket).</summary>
    string Endpoint { get; }

    /// <summary>The endpoint as messages show it: without the credentials a tcp:// URL may carry.</summary>
    string Shown { get; }

    /// <summary>Checks that an engine answers at the endpoint.</summary>
    Task PingAsync(CancellationToken ct);

    /// <summary>The docker command line client in the foreground on this engine (dimg run, introspection); its exit code.</summary>
    Task<int> RunCliAsync(IReadOnlyList<string> args, CancellationToken ct);

    /// <summary>How <see cref="RunCliAsync"/> runs the client, for --verbose and --dry-run.</summary>
    string CliCommandLine(IReadOnlyList<string> args);

    // Images
    Task<ImageInspectResponse?> InspectImageAsync(string name, CancellationToken ct);
    async Task<bool> ImageExistsAsync(string name, CancellationToken ct) => await InspectImageAsync(name, ct) is not null;

    /// <summary>The IDs of the image and of its ancestors this engine has (committed or pulled whole), nearest first.</summary>
    Task<IReadOnlyList<string>> AncestorIdsAsync(string name, CancellationToken ct);

    Task<IList<ImagesListResponse>> ListImagesAsync(IDictionary<string, IDictionary<string, bool>> filters, CancellationToken ct);
    Task TagAsync(string source, string target, CancellationToken ct);

    /// <summary>Removes an image reference (or image); false when it did not exist.</summary>
    Task<bool> RemoveImageAsync(string name, bool force, CancellationToken ct);

    /// <summary>The chain IDs of every layer the engine has (from its images' root filesystems).</summary>
    async Task<IReadOnlySet<string>> LayerChainIdsAsync(CancellationToken ct)
    {
        var images = await ListImagesAsync(new Dictionary<string, IDictionary<string, bool>>(), ct);
        var inspected = await Task.WhenAll(images.Select(i => InspectImageAsync(i.ID, ct)));
        var chains = new HashSet<string>();
        foreach (var image in inspected)
            if (image?.RootFS?.Layers is { } layers)
                foreach (var chain in DockerEngine.ChainIds(layers)) chains.Add(chain);
        return chains;
    }

    // Transfers
    /// <summary>Pulls an image; with <paramref name="abandonOnLayerRetry"/> gives up as soon as the engine starts its own slow layer retries.</summary>
    Task PullAsync(ImageReference image, AuthConfig? auth, CancellationToken ct, Action<LayerProgress>? onProgress = null, bool abandonOnLayerRetry = false,
        LayerProgress? layers = null);

    /// <summary>Pushes an image; the digest of the manifest the engine wrote, as it reports it (null if it did not say).</summary>
    Task<string?> PushAsync(ImageReference image, AuthConfig? auth, CancellationToken ct, Action<LayerProgress>? onProgress = null, bool abandonOnLayerRetry = false,
        LayerProgress? layers = null);

    /// <summary>Loads images from a docker-save tar stream.</summary>
    Task LoadAsync(Stream tar, CancellationToken ct);

    /// <summary>
    /// Whether <see cref="LoadAsync"/> takes a tar that lists the layers the engine has without their files (Docker
    /// opens a layer's file only for a layer it lacks); Podman wants every file.
    /// </summary>
    Task<bool> LoadSkipsLayersItHasAsync(CancellationToken ct) => Task.FromResult(true);

    /// <summary>The image as a docker-save tar stream.</summary>
    Task<Stream> SaveAsync(string image, CancellationToken ct);

    /// <summary>Makes an image of one layer from a file system tar stream (docker import), tagged <paramref name="target"/>.</summary>
    Task ImportAsync(Stream tar, string target, IList<string> changes, CancellationToken ct);

    // Containers
    Task<bool> ContainerExistsAsync(string name, CancellationToken ct);
    Task<IList<ContainerListResponse>> ListContainersAsync(IDictionary<string, IDictionary<string, bool>> filters, CancellationToken ct);

    /// <summary>Creates a container; not cancellable (a creation cancelled in flight can leave a container whose ID the caller never learns).</summary>
    Task<string> CreateContainerAsync(CreateContainerParameters parameters);

    /// <summary>A container that is never started: a source to copy files from, or a base to commit a relabelled image.</summary>
    Task<string> CreateIdleContainerAsync(string image, string name, IDictionary<string, string> labels) =>
        CreateContainerAsync(new CreateContainerParameters { Name = name, Image = image, Entrypoint = ["/bin/true"], Labels = labels });

    Task StartContainerAsync(string id, CancellationToken ct);
    Task<long> WaitContainerAsync(string id, CancellationToken ct);

    /// <summary>
    /// Follows a container's stdout and stderr until it exits, line by line; <paramref name="exit"/> is the caller's
    /// <see cref="WaitContainerAsync"/> for it (an engine whose follow can outlive the container ends it by the exit).
    /// </summary>
    Task FollowLogsAsync(string id, Task<long> exit, Action<string> onLine, CancellationToken ct);

    /// <summary>Commits a container as <paramref name="target"/>: the image is created and tagged in one engine call; returns its ID.</summary>
    Task<string> CommitAsync(string containerId, CommitContainerChangesParameters parameters, string target, CancellationToken ct);

    /// <summary>Removes a container and its anonymous volumes, running or not; nothing when it is gone already.</summary>
    Task RemoveContainerAsync(string id, CancellationToken ct);

    /// <summary>A tar of <paramref name="path"/> in the container.</summary>
    Task<Stream> GetArchiveAsync(string containerId, string path, CancellationToken ct);

    /// <summary>Extracts a tar into the container at <paramref name="path"/>.</summary>
    Task PutArchiveAsync(string containerId, string path, Stream tar, CancellationToken ct);
}
