using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Dapp.Engine;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Transfer;

/// <summary>
/// Pushes an image with dapp's own client: the engine saves it (a docker-save tar), each layer is compressed into a
/// spool, and blobs the registry lacks are uploaded (each request retried on its own) before the manifest is written
/// under the tag: the tag never names an incomplete image. How stages reach a repository (no scratch tag), and the
/// path taken when the engine's own push of a dimg image keeps failing.
/// A layer that the nearest ancestor stage published in the repository already has (the same diff ID) is not
/// compressed again: its blob there is reused, so the registry stores it once and a host pulls it once.
/// </summary>
internal sealed class SaveTransfer(IDockerEngine engine, RegistryClient client)
{
    public async Task PushAsync(string localImage, ImageReference target, Action<long, long>? progress, CancellationToken ct)
    {
        var manifest = await UploadAsync(localImage, target.Repository, progress, ct);
        await client.PutManifestAsync(target.Repository, target.Identifier, manifest, ct);
    }

    /// <summary>
    /// Uploads the image's config and layers; returns its manifest, written nowhere yet. Layers whose diff ID
    /// <paramref name="present"/> names are the repository's blobs already (else those of the nearest ancestor stage
    /// published there are found by reading it).
    /// </summary>
    public async Task<RawManifest> UploadAsync(string localImage, RepositoryName repository, Action<long, long>? progress, CancellationToken ct,
        IReadOnlyDictionary<string, Descriptor>? present = null)
    {
        var files = new Dictionary<string, FileStream>();
        try
        {
            // The engine's save stream is spooled first: tar reads of exact sizes break on its chunked answer.
            await using var saved = TempSpool.Create("save");
            await using (var stream = await engine.SaveAsync(localImage, ct)) await stream.CopyToAsync(saved, ct);
            saved.Position = 0;
            byte[]? manifestJson = null;
            var links = new Dictionary<string, string>();
            // Which layers need compressing is known once manifest.json (the archive's last entry) is read: the layers
            // are compressed in a second pass, all but those the repository has.
            await using (var tar = new TarReader(saved, leaveOpen: true))
            {
                while (await tar.GetNextEntryAsync(copyData: false, ct) is { } entry)
                {
                    if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
                    {
                        links[entry.Name] = entry.EntryType == TarEntryType.HardLink ? entry.LinkName
                            : Path.GetRelativePath(".", Path.Combine(Path.GetDirectoryName(entry.Name) ?? "", entry.LinkName)).Replace('\\', '/');
                        continue;
                    }
                    if (entry.DataStream is null) continue;
                    if (entry.Name == "manifest.json") manifestJson = await ReadAllAsync(entry.DataStream, ct);
                    else if (entry.Name.EndsWith(".json", StringComparison.Ordinal) && !entry.Name.Contains('/')) files[entry.Name] = await SpoolAsync(entry.DataStream, ct);
                }
            }
            var saveManifest = ParseSaveManifest(manifestJson, localImage);
            var diffIds = (await engine.InspectImageAsync(localImage, ct))?.RootFS?.Layers?.ToList() ?? [];
            var published = present ?? await PublishedLayersAsync(localImage, repository, ct);
            string Target(string name) => links.TryGetValue(name, out var link) ? link : name;
            var reused = saveManifest.Layers.Select((layer, i) => i < diffIds.Count && published.TryGetValue(diffIds[i], out var blob) ? blob : null).ToList();
            var toCompress = saveManifest.Layers.Where((_, i) => reused[i] is null).Select(Target).ToHashSet(StringComparer.Ordinal);
            saved.Position = 0;
            await using (var tar = new TarReader(saved, leaveOpen: true))
            {
                while (await tar.GetNextEntryAsync(copyData: false, ct) is { } entry)
                    if (entry.DataStream is not null && toCompress.Contains(entry.Name) && !files.ContainsKey(entry.Name))
                        files[entry.Name] = await CompressAsync(entry.DataStream, ct);
            }
            FileStream File(string name) => files.TryGetValue(Target(name), out var f) ? f
                : throw new DappException($"save {localImage}: the engine's archive lacks {name}");

            var config = (Descriptor: await DescriptorAsync(File(saveManifest.Config), MediaTypes.DockerConfig, ct), File: File(saveManifest.Config));
            var layers = new List<Descriptor>();
            var uploads = new List<(Descriptor Descriptor, FileStream File)> { config };
            for (int i = 0; i < saveManifest.Layers.Count; i++)
            {
                if (reused[i] is { } blob)
                {
                    // Reused from a published stage, whose OCI manifest names it as an OCI layer: this manifest is Docker's.
                    layers.Add(blob with { MediaType = MediaTypes.AsDocker(blob.MediaType) });
                    continue;
                }
                var file = File(saveManifest.Layers[i]);
                var descriptor = await DescriptorAsync(file, MediaTypes.DockerLayer, ct);
                layers.Add(descriptor);
                uploads.Add((descriptor, file));
            }

            var blobs = uploads.DistinctBy(b => b.Descriptor.Digest).ToList();
            // Progress and totals count layer bytes, as the engine's transfers report them; the config is not a layer.
            long total = blobs.Where(b => b.Descriptor != config.Descriptor).Sum(b => b.Descriptor.Size), done = 0;
            var sent = new SyncProgress<long>(n => progress?.Invoke(Interlocked.Add(ref done, n), total));
            await Task.WhenAll(blobs.Select(blob => client.UploadBlobAsync(repository, blob.Descriptor,
                (offset, _) => Task.FromResult<Stream>(TempSpool.OpenView(blob.File, offset)), null, blob.Descriptor == config.Descriptor ? null : sent, ct)));
            return RawManifest.From(new Manifest(2, MediaTypes.DockerManifest, config.Descriptor, layers));
        }
        finally
        {
            foreach (var file in files.Values) await file.DisposeAsync();
        }
    }

    /// <summary>
    /// The layer blobs of the nearest ancestor of <paramref name="localImage"/> that is a stage published in
    /// <paramref name="repository"/> (<c>dimgstage-SIGNATURE</c>), by diff ID; empty when there is none.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, Descriptor>> PublishedLayersAsync(string localImage, RepositoryName repository, CancellationToken ct)
    {
        await foreach (var signature in AncestorSignaturesAsync(localImage, ct))
        {
            RegistryImage image;
            try
            {
                image = await RegistryImage.ReadAsync(client, ImageReference.WithTag(repository, DappTags.Stage(signature)), ct);
            }
            catch (RegistryException e) when (e.IsNotFound)
            {
                continue;
            }
            var diffIds = image.DiffIds;
            return image.Manifest.Layers.Select((layer, i) => (layer, i)).Where(x => x.i < diffIds.Count)
                .GroupBy(x => diffIds[x.i]).ToDictionary(g => g.Key, g => g.First().layer);
        }
        return new Dictionary<string, Descriptor>();
    }

    /// <summary>
    /// The stage signatures of the image's ancestors, nearest first: the parent its labels name (a stage loaded as a
    /// layer has no parent in the engine), then those of the engine's history.
    /// </summary>
    private async IAsyncEnumerable<string> AncestorSignaturesAsync(string localImage, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        string? parent = null;
        if ((await engine.InspectImageAsync(localImage, ct))?.Config?.Labels is { } own && own.TryGetValue(DappLabels.ParentSignature, out parent) && parent.Length > 0)
            yield return parent;
        foreach (var id in (await engine.AncestorIdsAsync(localImage, ct)).Skip(1))
            if ((await engine.InspectImageAsync(id, ct))?.Config?.Labels is { } labels && labels.TryGetValue(DappLabels.StageSignature, out var signature) && signature != parent)
                yield return signature;
    }

    private sealed record SaveManifest(string Config, IReadOnlyList<string> Layers);

    private static SaveManifest ParseSaveManifest(byte[]? json, string image)
    {
        try
        {
            using var document = JsonDocument.Parse(json ?? throw new JsonException("no manifest.json"));
            var first = document.RootElement[0];
            return new SaveManifest(first.GetProperty("Config").GetString()!,
                first.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()!).ToList());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new DappException($"save {image}: the engine's archive has no valid manifest.json ({e.Message})");
        }
    }

    private static async Task<byte[]> ReadAllAsync(Stream data, CancellationToken ct)
    {
        using var memory = new MemoryStream();
        await data.CopyToAsync(memory, ct);
        return memory.ToArray();
    }

    private static async Task<FileStream> SpoolAsync(Stream data, CancellationToken ct)
    {
        var spool = TempSpool.Create("blob", shared: true);
        await data.CopyToAsync(spool, ct);
        await spool.FlushAsync(ct);
        return spool;
    }

    /// <summary>A layer as the registry stores it: gzip, with no timestamp in its header, so the same layer compresses the same way each time.</summary>
    private static async Task<FileStream> CompressAsync(Stream data, CancellationToken ct)
    {
        var spool = TempSpool.Create("layer", shared: true);
        await using (var gzip = new GZipStream(spool, CompressionLevel.Fastest, leaveOpen: true)) await data.CopyToAsync(gzip, ct);
        await spool.FlushAsync(ct);
        return spool;
    }

    private static async Task<Descriptor> DescriptorAsync(FileStream file, string mediaType, CancellationToken ct)
    {
        await using var view = TempSpool.OpenView(file);
        return new Descriptor(mediaType, Digest.FromHash(await SHA256.HashDataAsync(view, ct)), view.Length);
    }
}
