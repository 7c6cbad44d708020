using System.Collections.Concurrent;
using System.Diagnostics;
using Dapp.Engine;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Reporting;
using Dapp.Transfer;

namespace Dapp.Storage;

/// <summary>What a registry stages storage moved and asked in a command, for its summary line.</summary>
public sealed record StagesTransferTotals(int StagesPulled, long BytesPulled, int StagesPushed, long BytesPushed, long Requests, string RequestKinds);

/// <summary>
/// Stages in a registry: <c>REPO:dimgstage-&lt;signature&gt;</c>, the stages of every dimg and artifact flat in REPO.
/// Lookups are manifest HEADs by tag (never a tag listing), each signature asked once per command; a stage is pulled
/// by the digest its lookup resolved, so a tag overwritten meanwhile cannot mix two images; a stage's tag is written
/// only after its blobs, and only if a HEAD right before finds it free; dimg images are made inside the registry
/// (<see cref="RegistryDimgImages"/>).
/// </summary>
public sealed class RegistryStagesStorage : IStagesStorage
{
    public const string TagPrefix = DappTags.StagePrefix;

    /// <summary>The scratch tags older dapps had the engine push stages under (<c>dapp-upload-N</c>): removed by stages cleanup and flush.</summary>
    public const string UploadTagPrefix = "dapp-upload-";

    private readonly RegistryAccess _registry;
    private readonly LocalStagesStorage _local;
    private readonly IDockerEngine _engine;
    private readonly StagesTransferOptions _options;
    private readonly ImageTransfer _transfer;
    /// <summary>What each lookup found: the manifest, or null for "not there".</summary>
    private readonly ConcurrentDictionary<string, ManifestInfo?> _known = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<RegistryImage?>>> _images = new();
    private readonly RegistryDimgImages _dimgs;
    private readonly Action<string> _warn;
    /// <summary>Stage tags whose image is not the stage they name (written by another tool): their digests, never used, overwritten by a publication.</summary>
    private readonly ConcurrentDictionary<string, string> _impostors = new();
    /// <summary>The stage copies seen in the registry, by manifest digest.</summary>
    private readonly ConcurrentDictionary<string, StageCopy> _copies = new();
    private readonly ConcurrentDictionary<string, StageTransfer> _transfers = new();
    private int _stagesPulled, _stagesPushed;
    private long _bytesPulled, _bytesPushed;

    public RegistryStagesStorage(RegistryAccess registry, LocalStagesStorage local, IDockerEngine engine, StagesTransferOptions options, Action<string> warn)
    {
        _registry = registry;
        _local = local;
        _engine = engine;
        _options = options;
        _transfer = registry.Transfer(engine, warn);
        _warn = warn;
        _dimgs = new RegistryDimgImages(registry.Remote);
    }

    /// <summary>Claims on stages in this repository, for hosts building at once (<see cref="StageClaims"/>).</summary>
    public StageClaims Claims(TimeSpan ttl, Action<string> warn) => new(_registry.Remote, ttl, warn, RefreshAsync);

    public RepositoryName Repository => _registry.Repository;

    public string Location => Repository.ToString();

    public static string Tag(string signature) => DappTags.Stage(signature);

    /// <summary>Every tag of a repository (paginated); none when it does not exist.</summary>
    public static async Task<IReadOnlyList<string>> ListTagsAsync(RemoteRepository repository, CancellationToken ct)
    {
        try
        {
            return await repository.Client.ListTagsAsync(repository.Name, 1000, ct);
        }
        catch (RegistryException e) when (e.IsNotFound)
        {
            return [];
        }
    }

    /// <summary>Whether a tag of REPO belongs to its stages: <c>dimgstage-*</c>, <c>dimgclaim-*</c>, and older dapps' <c>dapp-upload-*</c>.</summary>
    public static bool IsStagesTag(string tag) =>
        tag.StartsWith(TagPrefix, StringComparison.Ordinal) || tag.StartsWith(UploadTagPrefix, StringComparison.Ordinal)
        || tag.StartsWith(StageClaims.TagPrefix, StringComparison.Ordinal);

    public string ImageName(string signature) => $"{Repository}:{Tag(signature)}";

    /// <summary>How progress displays name a stage: <c>dimgstage-&lt;12 hex&gt;</c>.</summary>
    public static string ShortName(string signature) => TagPrefix + signature[..12];

    /// <summary>What moved for each stage (by signature): bytes pulled and pushed, and how long that took.</summary>
    public IReadOnlyDictionary<string, StageTransfer> Transfers => _transfers;

    private void Record(string signature, long pulled, long pushed, TimeSpan elapsed)
    {
        var transfer = new StageTransfer(pulled, pushed, elapsed);
        _transfers.AddOrUpdate(signature, transfer, (_, was) => was.Plus(transfer));
    }

    public StagesTransferTotals Totals => new(_stagesPulled, Interlocked.Read(ref _bytesPulled), _stagesPushed, Interlocked.Read(ref _bytesPushed),
        _registry.Client.RequestCount, _registry.Client.Requests.Describe());

    /// <summary>One manifest HEAD per signature not asked about before in this command, all at once. A missing repository has none.</summary>
    public async Task<IReadOnlySet<string>> LookUpAsync(IReadOnlyCollection<string> signatures, CancellationToken ct)
    {
        var ask = signatures.Distinct().Where(s => !_known.ContainsKey(s)).ToList();
        var answers = await Task.WhenAll(ask.Select(s => _registry.Client.HeadManifestAsync(Reference(s), ct)));
        foreach (var (signature, info) in ask.Zip(answers)) _known[signature] = info;
        return signatures.Where(s => _known.GetValueOrDefault(s) is not null).ToHashSet();
    }

    /// <summary>Asks the registry again whether it has the stage (another host may have published it since the lookup).</summary>
    public async Task<bool> RefreshAsync(string signature, CancellationToken ct)
    {
        var info = await _registry.Client.HeadManifestAsync(Reference(signature), ct);
        if (info is not null && _impostors.TryGetValue(signature, out var impostor) && impostor == info.Digest) info = null;
        // What was read of another manifest (or of none) is not this one's.
        if (_known.GetValueOrDefault(signature)?.Digest != info?.Digest) _images.TryRemove(signature, out _);
        _known[signature] = info;
        return info is not null;
    }

    public async Task<IReadOnlyDictionary<string, string>?> GetLabelsAsync(string signature, CancellationToken ct) =>
        (await ImageAsync(signature, ct))?.Labels;

    /// <summary>Pulls each stage by the digest its lookup resolved: by the engine, or with <see cref="StagesTransferOptions.LoadPath"/> through the load API.</summary>
    public async Task FetchAsync(IReadOnlyList<string> signatures, ITransferDisplay display, CancellationToken ct)
    {
        var missing = new List<string>();
        foreach (var signature in signatures.Where(s => _known.GetValueOrDefault(s) is null).Distinct())
            if (!await RefreshAsync(signature, ct)) missing.Add(signature);
        if (missing.Count > 0)
            throw new DappException($"{missing.Count} stage(s) are not in {Location}: {string.Join(", ", missing.Select(ImageName))}");
        var items = signatures.Distinct().Select(s => (Signature: s, Remote: ImageReference.WithDigest(Repository, _known[s]!.Digest))).ToList();
        var totals = new TransferTotals(display);
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (_options.LoadPath)
                await new LoadTransfer(_engine, _registry.Client).RunAsync(
                    items.Select(i => new LoadItem(i.Remote, _local.ImageName(i.Signature), ShortName(i.Signature))).ToList(), _options.Parallel, totals.Update, ct);
            else
                await ParallelTransfers.RunAsync(items, _options.Parallel, async (item, token) =>
                {
                    var label = ShortName(item.Signature);
                    // The local name is given only once the engine has the whole image.
                    await _transfer.PullAsync(item.Remote, _local.ImageName(item.Signature), (done, total) => totals.Update(label, done, total), token);
                    display.Finished(label);
                }, item => ImageName(item.Signature), "stage pulls", ct);
            Interlocked.Add(ref _stagesPulled, items.Count);
        }
        finally
        {
            Interlocked.Add(ref _bytesPulled, totals.Bytes);
            // Stages pulled together share the time they took.
            foreach (var item in items)
                Record(item.Signature, totals.BytesOf(ShortName(item.Signature)), 0, Stopwatch.GetElapsedTime(started) / items.Count);
        }
    }

    /// <summary>
    /// Uploads the local stage's blobs and writes its tag, unless the tag exists: asked before the upload, and again
    /// right before the manifest is written (another host may have published the stage meanwhile: theirs is kept). A
    /// stage whose layers do not start with those of the registry's copy of its parent was built on another copy (one
    /// that lost a race to publish, or another job's on a shared engine) and is not published: each stage in REPO is
    /// built on REPO's own parent stage.
    /// </summary>
    public async Task<PublishResult> PublishAsync(string signature, string? parent, ITransferDisplay display, CancellationToken ct)
    {
        var local = await _local.InspectAsync(signature, ct) ?? throw new DappException($"stage {_local.ImageName(signature)} is no longer in the local engine");
        var layers = local.RootFS?.Layers?.ToList() ?? [];
        if (await RefreshAsync(signature, ct)) return await ThereAsync(signature, local.ID, ct);
        // The parent's tag asked again, not taken from this command's lookups: without claims (or for a stage found
        // locally) two builds can both find a stage's tag free and both write it, and the later write wins; a stage
        // built on the earlier copy is checked against the copy REPO has now.
        if (parent is not null) await RefreshAsync(parent, ct);
        var stored = parent is null ? null : await StoredCopyAsync(parent, ct);
        if (parent is not null && (stored is null || !layers.Take(stored.DiffIds.Count).SequenceEqual(stored.DiffIds) || layers.Count < stored.DiffIds.Count))
            return PublishResult.NotOnStoredParent;
        var label = ShortName(signature);
        var totals = new TransferTotals(display);
        var started = Stopwatch.GetTimestamp();
        RawManifest manifest;
        try
        {
            // By ID: another job of this engine may point the stage's name at another copy meanwhile.
            manifest = await _transfer.UploadAsync(local.ID, Repository, (done, total) => totals.Update(label, done, total), ct, stored?.LayersByDiffId);
            display.Finished(label);
        }
        finally
        {
            Interlocked.Add(ref _bytesPushed, totals.Bytes);
            Record(signature, 0, totals.Bytes, Stopwatch.GetElapsedTime(started));
        }
        if (await RefreshAsync(signature, ct)) return await ThereAsync(signature, local.ID, ct);
        manifest = PublishedStages.Stamp(manifest, DateTimeOffset.UtcNow);
        try
        {
            await _registry.Client.PutManifestAsync(Repository, Tag(signature), manifest, ct);
        }
        catch (RegistryException)
        {
            // Written by another host between the HEAD and this write, on a registry that refuses to overwrite a tag.
            if (await RefreshAsync(signature, ct)) return await ThereAsync(signature, local.ID, ct);
            throw;
        }
        Interlocked.Increment(ref _stagesPushed);
        _known[signature] = new ManifestInfo(manifest.Digest, manifest.Content.Length, manifest.MediaType);
        _images.TryRemove(signature, out _);
        _copies[manifest.Digest] = new StageCopy(local.ID, layers, manifest.AsManifest().Layers);
        return PublishResult.Published;
    }

    public async Task<bool> SyncLocalCopyAsync(string signature, ITransferDisplay display, CancellationToken ct)
    {
        if (await _local.InspectAsync(signature, ct) is { } local && await ThereAsync(signature, local.ID, ct) == PublishResult.AlreadyThere) return false;
        await FetchAsync([signature], display, ct);
        return true;
    }

    private async Task<PublishResult> ThereAsync(string signature, string localId, CancellationToken ct) =>
        (await StoredCopyAsync(signature, ct))?.ConfigDigest == localId ? PublishResult.AlreadyThere : PublishResult.OtherCopyThere;

    /// <summary>The registry's copy of a stage as an engine knows images: its config digest (the image ID) and its layers' diff IDs.</summary>
    private sealed record StageCopy(string ConfigDigest, IReadOnlyList<string> DiffIds, IReadOnlyList<Descriptor> Layers)
    {
        /// <summary>Its layer blobs by diff ID: a stage built on it reuses them instead of uploading the same layers again.</summary>
        public IReadOnlyDictionary<string, Descriptor> LayersByDiffId =>
            DiffIds.Zip(Layers).GroupBy(x => x.First).ToDictionary(g => g.Key, g => g.First().Second);
    }

    /// <summary>The registry's copy of a stage (read once per manifest digest, or known from its publication); null when absent.</summary>
    private async Task<StageCopy?> StoredCopyAsync(string signature, CancellationToken ct)
    {
        if (_known.GetValueOrDefault(signature) is { } info && _copies.TryGetValue(info.Digest, out var known)) return known;
        if (await ImageAsync(signature, ct) is not { } image) return null;
        return _copies[image.Raw.Digest] = new StageCopy(image.Manifest.Config.Digest, image.DiffIds, image.Manifest.Layers);
    }

    /// <summary>
    /// The dimg images of a dimg in REPO (<c>REPO/NAME:TAG</c>, <c>REPO:TAG</c> when nameless) that a dapp made, with
    /// their labels and age: at most <paramref name="max"/> tags are read (a manifest and a config each), the
    /// <paramref name="preferred"/> ones that exist first, then the others in ordinal order.
    /// </summary>
    public async Task<IReadOnlyList<(string Tag, IReadOnlyDictionary<string, string> Labels, DateTimeOffset Created)>> DimgImagesAsync(string? dimg, int max,
        IReadOnlyList<string> preferred, CancellationToken ct)
    {
        var repository = dimg is null ? _registry.Remote : _registry.Other(RepositoryName.Parse($"{Repository}/{dimg}"));
        // Registries list tags in no order they promise: sorted, the same tags are read on every host.
        var listed = (await ListTagsAsync(repository, ct)).Where(t => !IsStagesTag(t)).Order(StringComparer.Ordinal).ToList();
        var tags = preferred.Where(listed.Contains).Concat(listed).Distinct().Take(max).ToList();
        // Read at once (the client keeps to its per-registry limit), kept in the order above.
        var read = await Task.WhenAll(tags.Select(async tag =>
        {
            try
            {
                return (Tag: tag, Image: await RegistryImage.ReadAsync(_registry.Client, ImageReference.WithTag(repository.Name, tag), ct));
            }
            catch (RegistryException e) when (e.IsNotFound)
            {
                return (Tag: tag, Image: (RegistryImage?)null);
            }
        }));
        return read.Where(r => r.Image?.Labels.GetValueOrDefault(DappLabels.StageSignature) is { Length: > 0 })
            .Select(r => (r.Tag, r.Image!.Labels, r.Image.Created ?? DateTimeOffset.MinValue)).ToList();
    }

    public async Task<bool> TagAsync(string signature, string target, string tagScheme, bool dryRun, CancellationToken ct)
    {
        var stage = await ImageAsync(signature, ct) ?? throw new DappException($"stage {ImageName(signature)} is not in {Location}");
        return await _dimgs.MakeAsync(stage, ImageReference.Parse(target), tagScheme, dryRun, ct);
    }

    private ImageReference Reference(string signature) => ImageReference.WithTag(Repository, Tag(signature));

    /// <summary>The stage's manifest and config, read once per command (by the digest a lookup resolved, else by tag); null when absent.</summary>
    private Task<RegistryImage?> ImageAsync(string signature, CancellationToken ct) =>
        _images.GetOrAdd(signature, s => new Lazy<Task<RegistryImage?>>(() => ReadImageAsync(s, ct))).Value;

    private async Task<RegistryImage?> ReadImageAsync(string signature, CancellationToken ct)
    {
        if (_known.TryGetValue(signature, out var info) && info is null) return null;
        var reference = info is not null ? ImageReference.WithDigest(Repository, info.Digest) : Reference(signature);
        RegistryImage? image;
        try
        {
            image = await RegistryImage.ReadAsync(_registry.Client, reference, ct);
        }
        catch (RegistryException e) when (e.IsNotFound)
        {
            image = null;
        }
        if (image is not null && image.Labels.GetValueOrDefault(DappLabels.StageSignature) != signature)
        {
            // A dimg tag written over a stage tag, or another tool's image: not this stage, whatever its tag says.
            _warn($"{ImageName(signature)} is not the stage its tag names (its image's {DappLabels.StageSignature} label is "
                + $"'{image.Labels.GetValueOrDefault(DappLabels.StageSignature) ?? "missing"}'): another tool wrote that tag; the stage is built again and published over it");
            _impostors[signature] = image.Raw.Digest;
            image = null;
        }
        _known[signature] = image is null ? null : new ManifestInfo(image.Raw.Digest, image.Raw.Content.Length, image.Raw.MediaType);
        return image;
    }
}
