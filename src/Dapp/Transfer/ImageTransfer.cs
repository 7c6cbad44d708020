using Dapp.Engine;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Docker.DotNet.Models;

namespace Dapp.Transfer;

/// <summary>
/// Moves one image between the engine and a registry. The engine's own pull, and its push of a dimg image under the
/// tag the user asked for, go first (the faster path, bench/README.md); when the registry fails them transiently they
/// are retried (the engine keeps what it already moved), and when they keep failing, dapp's own client moves the
/// image instead, whose retries work request by request (<see cref="LoadTransfer"/> for pulls, <see cref="SaveTransfer"/>
/// for pushes). Stages are always uploaded by dapp's own client (<see cref="UploadAsync"/>). Each retry and each change of
/// path is announced in a one-line warning. Failures that are not transient fail at once, naming the registry's error.
/// </summary>
public sealed class ImageTransfer(IDockerEngine engine, RegistryClient client, AuthConfig? auth, RetryPolicy policy, Action<string> warn)
{
    /// <summary>The engine's attempts before dapp's own client takes over: one whole-image attempt costs many requests.</summary>
    public static RetryPolicy DefaultPolicy { get; } = new() { MaxRetries = 1, BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10) };

    /// <summary>Tagging again after another process removed the push name costs nothing; the bound only stops a loop.</summary>
    private static RetryPolicy Retag { get; } = new() { MaxRetries = 10 };

    /// <summary>
    /// Pulls <paramref name="remote"/> (by digest: the engine records no name for it that another process could
    /// remove) and names it <paramref name="localName"/> from the pulled image's ID, only once the image is whole.
    /// </summary>
    public async Task PullAsync(ImageReference remote, string localName, Action<long, long> progress, CancellationToken ct)
    {
        var reference = remote.ToString();
        var layers = new LayerProgress();
        try
        {
            await WithRetriesAsync(() => engine.PullAsync(remote, auth, ct, l => Report(l, progress), abandonOnLayerRetry: true, layers), ct);
        }
        catch (EngineTransferException e) when (e.IsTransient || e.IsUnreadableManifest)
        {
            warn($"{e.Message}: pulling {reference} with dapp's own client instead");
            await new LoadTransfer(engine, client).RunAsync([new LoadItem(remote, localName, reference)], 1, (_, done, total) => progress(done, total), ct);
            return;
        }
        // Its progress names a pulled layer by the layer's digest.
        var manifest = (await client.GetManifestExactAsync(remote, ct)).AsManifest();
        var pulled = MovedBytes(layers, manifest.Layers, manifest.Layers.Select(l => l.Digest).ToList());
        progress(pulled, pulled);
        if ((await engine.InspectImageAsync(reference, ct))?.ID is { } id)
        {
            await engine.TagAsync(id, localName, ct);
            // The digest reference goes; the image stays under its local name.
            await engine.RemoveImageAsync(reference, force: false, CancellationToken.None);
        }
        else if (!await engine.ImageExistsAsync(localName, ct))
        {
            // Only another dapp process pulling the same image removes the digest reference, after naming the image.
            throw new DappException($"pull {reference}: the pulled image disappeared before it was named {localName}");
        }
    }

    /// <summary>
    /// Pushes <paramref name="localImage"/> as <paramref name="remote"/>. The engine pushes only what carries the
    /// remote name, so the image gets that name for the push and loses it after (tagged again when another process
    /// removed it meanwhile). Either path writes the registry's tag only once every layer is there.
    /// </summary>
    public async Task PushAsync(string localImage, ImageReference remote, Action<long, long>? progress, CancellationToken ct)
    {
        var remoteName = remote.ToString();
        try
        {
            var missingName = Retag.NewBudget();
            await WithRetriesAsync(() => TagAndPushAsync(localImage, remote, missingName, progress, ct), ct);
        }
        catch (EngineTransferException e) when (e.IsTransient)
        {
            warn($"{e.Message}: pushing {remoteName} with dapp's own client instead");
            await new SaveTransfer(engine, client).PushAsync(localImage, remote, progress, ct);
        }
        finally
        {
            await engine.RemoveImageAsync(remoteName, force: false, CancellationToken.None);
        }
    }

    /// <summary>
    /// Puts the image's config and layers into <paramref name="repository"/> and returns its manifest, written under
    /// no tag: the caller writes it where and if it wants (a stage tag only while it is free). dapp's own client
    /// uploads it (<see cref="SaveTransfer"/>): the engine pushes only under a tag, and a scratch tag is one the user
    /// did not ask for (and one a registry with immutable tags refuses to write twice). The layers of
    /// <paramref name="present"/> (by diff ID) are in the repository already and are not uploaded again.
    /// </summary>
    public Task<RawManifest> UploadAsync(string localImage, RepositoryName repository, Action<long, long>? progress, CancellationToken ct,
        IReadOnlyDictionary<string, Registry.Model.Descriptor>? present = null) =>
        new SaveTransfer(engine, client).UploadAsync(localImage, repository, progress, ct, present);

    /// <summary>
    /// Gives the image the name the engine pushes and pushes it; names it again when another process removed the name
    /// before the push began (as <paramref name="renamed"/> allows). Returns the digest the engine reported.
    /// </summary>
    private async Task<string?> TagAndPushAsync(string localImage, ImageReference name, RetryBudget renamed, Action<long, long>? progress, CancellationToken ct)
    {
        while (true)
        {
            await engine.TagAsync(localImage, name.ToString(), ct);
            try
            {
                return await engine.PushAsync(name, auth, ct, l => Report(l, progress), abandonOnLayerRetry: true);
            }
            catch (EngineTransferException e) when (e.IsMissingLocalImage && renamed.TryTake(RetryCause.Transient, TimeSpan.Zero, out _))
            {
            }
        }
    }

    private Task WithRetriesAsync(Func<Task> transfer, CancellationToken ct) => RetryEngineAsync(policy, warn, transfer, ct);

    /// <summary>For engine transfers with no other path to take (a base image from any registry): more attempts.</summary>
    public static RetryPolicy EngineOnlyPolicy { get; } = new() { MaxRetries = 3, BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(15) };

    /// <summary>Runs an engine transfer, retrying its transient failures as <paramref name="policy"/> allows, each retry announced.</summary>
    public static async Task RetryEngineAsync(RetryPolicy policy, Action<string> warn, Func<Task> transfer, CancellationToken ct)
    {
        var budget = policy.NewBudget();
        while (true)
        {
            try
            {
                await transfer();
                return;
            }
            catch (EngineTransferException e) when (e.IsTransient)
            {
                if (!budget.TryTake(RetryCause.Transient, null, out var delay))
                    throw new EngineTransferException($"{e.Message} (the engine tried {budget.Retries + 1} times)", e, transient: true);
                warn($"{e.Message}: retrying in {delay.TotalSeconds:0.0} s ({budget.Retries} of {policy.MaxRetries})");
                await Task.Delay(delay, ct);
            }
        }
    }

    /// <summary>
    /// The bytes an engine transfer moved: the manifest's sizes of the layers its progress reported moved (it reports
    /// no progress for small layers, so its own counts miss them). <paramref name="progressIds"/> are what its messages
    /// name each layer by (digest or diff id, in the manifest's order), of which they show the first 12 hex digits.
    /// </summary>
    private static long MovedBytes(LayerProgress progress, IReadOnlyList<Registry.Model.Descriptor> layers, IReadOnlyList<string> progressIds) =>
        layers.Where((l, i) => i < progressIds.Count && progress.Moved(progressIds[i][(progressIds[i].IndexOf(':') + 1)..][..12])).Sum(l => l.Size);

    private static void Report(LayerProgress layers, Action<long, long>? progress)
    {
        var (done, total) = layers.Totals;
        progress?.Invoke(done, total);
    }
}
