using System.Text.Json;
using Dapp.Engine;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Transfer;

/// <summary>One image to bring from a registry into the engine: where it is, and the name it gets there.</summary>
internal sealed record LoadItem(ImageReference Remote, string LocalName, string Label);

/// <summary>
/// Moves images from a registry into the engine without the engine's own pull: our client fetches manifests and
/// configs, downloads each layer the engine lacks once (verified, concurrently), and streams a docker-save tar per
/// image into the engine's load API, which names the image only once it is whole.
/// </summary>
internal sealed class LoadTransfer(IDockerEngine engine, RegistryClient client)
{
    public async Task RunAsync(IReadOnlyList<LoadItem> items, int parallel, Action<string, long, long> progress, CancellationToken ct)
    {
        var images = await Task.WhenAll(items.Select(async item =>
        {
            var manifest = (await client.GetManifestAsync(item.Remote, null, ct)).AsManifest();
            using var config = new MemoryStream();
            await client.DownloadBlobAsync(item.Remote.Repository, manifest.Config, config, null, ct);
            return (Item: item, Manifest: manifest, Config: config.ToArray());
        }));
        // An engine that wants every layer's file in the tar (Podman) gets every layer.
        var present = await engine.LoadSkipsLayersItHasAsync(ct) ? await engine.LayerChainIdsAsync(ct) : new HashSet<string>();

        // Each missing layer is downloaded once, on behalf of the first image that needs it.
        var spools = new Dictionary<string, Task<Stream>>();
        var needed = new List<(LoadItem Item, IReadOnlyList<Descriptor> Layers)>();
        foreach (var (item, manifest, config) in images)
        {
            var chains = EngineChainIds(config);
            // One layer can be listed twice (Podman commits an unchanged container as the same empty layer): it moves once.
            var missing = manifest.Layers.Where((_, i) => i >= chains.Count || !present.Contains(chains[i])).DistinctBy(l => l.Digest).ToList();
            needed.Add((item, missing));
            var total = missing.Sum(l => l.Size);
            long done = 0;
            foreach (var layer in missing)
                if (!spools.ContainsKey(layer.Digest))
                    spools[layer.Digest] = DownloadAsync(item.Remote.Repository, layer, n => progress(item.Label, Interlocked.Add(ref done, n), total), ct);
        }
        try
        {
            await Task.WhenAll(spools.Values);
            using var slots = new SemaphoreSlim(Math.Max(1, parallel));
            await Task.WhenAll(images.Zip(needed).Select(async pair =>
            {
                await slots.WaitAsync(ct);
                try
                {
                    var (image, (_, missing)) = pair;
                    var files = missing.ToDictionary(l => l.Digest, l => spools[l.Digest].Result);
                    await LoadAsync(image.Item, image.Manifest, image.Config, files, ct);
                }
                finally
                {
                    slots.Release();
                }
            }));
        }
        finally
        {
            foreach (var spool in spools.Values.Where(t => t.IsCompletedSuccessfully)) await spool.Result.DisposeAsync();
        }
    }

    private static IReadOnlyList<string> EngineChainIds(byte[] config)
    {
        using var json = JsonDocument.Parse(config);
        var diffIds = json.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()!).ToList();
        return DockerEngine.ChainIds(diffIds);
    }

    private async Task<Stream> DownloadAsync(RepositoryName repository, Descriptor layer, Action<long> progress, CancellationToken ct)
    {
        // Shared, so that each parallel load can read its own view.
        var spool = TempSpool.Create("layer", shared: true);
        try
        {
            await client.DownloadBlobAsync(repository, layer, spool, new SyncProgress<long>(progress), ct);
            // The loads read the file through their own handles: nothing may stay in this one's buffer.
            await spool.FlushAsync(ct);
            return spool;
        }
        catch
        {
            await spool.DisposeAsync();
            throw;
        }
    }

    /// <summary>Streams one image into the engine; each image reads its own view of a shared spool, so parallel loads do not move each other's position.</summary>
    private Task LoadAsync(LoadItem item, Manifest manifest, byte[] config, IReadOnlyDictionary<string, Stream> files, CancellationToken ct) =>
        SaveArchive.LoadAsync(engine, item.LocalName, () => config, manifest.Layers.Select(l => new SaveArchiveLayer(l.Digest["sha256:".Length..] + "/layer.tar",
            files.TryGetValue(l.Digest, out var file) ? () => TempSpool.OpenView((FileStream)file) : null)).ToList(), ct);
}
