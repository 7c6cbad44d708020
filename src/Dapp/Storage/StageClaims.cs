using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Storage;

/// <summary>Who holds a stage's claim, until when.</summary>
public sealed record StageClaim(string Holder, DateTimeOffset Expires, string Digest)
{
    public bool IsLive => Expires > DateTimeOffset.UtcNow;
}

/// <summary>What came of trying to claim a stage.</summary>
public sealed record ClaimAttempt(bool Held, StageClaim? Other);

/// <summary>
/// Claims on stages in the registry, so that hosts building one project at once build each stage about once
/// (docs/distributed.md). A claim is a layer-less OCI manifest under <c>REPO:dimgclaim-&lt;signature&gt;</c> whose
/// annotations name the holder and an expiry; a host writes its claim and reads it back to see who holds it (the last
/// writer). The holder renews it while it builds and deletes it once the stage is published. Claims only save work:
/// correctness never depends on them (stage tags are written only while free). A registry that refuses claim writes
/// turns them off for the command, with one warning.
/// </summary>
public sealed class StageClaims(RegistryClient client, RepositoryName repository, TimeSpan ttl, Action<string> warn,
    Func<string, CancellationToken, Task<bool>> isPublished)
{
    public const string TagPrefix = "dimgclaim-";
    private const string HolderKey = "dapp.claim.holder";
    private const string ExpiresKey = "dapp.claim.expires";
    private static readonly byte[] EmptyConfig = "{}"u8.ToArray();
    private static readonly Descriptor EmptyConfigDescriptor = new("application/vnd.oci.empty.v1+json", Digest.Of(EmptyConfig), EmptyConfig.Length);

    private readonly Lock _lock = new();
    private Task? _configUploaded;
    private bool _off;

    /// <summary>This process, as other hosts see it in <c>[WAITING]</c>.</summary>
    public string Holder { get; } = $"{ProcessOwner.Current.Host}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    public TimeSpan Ttl => ttl;

    /// <summary>Renewals come this often, well before the claim expires.</summary>
    public TimeSpan RenewEvery => ttl / 3;

    public static string Tag(string signature) => TagPrefix + signature;

    /// <summary>Whether the stage is in the registry now (asked again, not from a command's cache).</summary>
    public Task<bool> IsPublishedAsync(string signature, CancellationToken ct) => isPublished(signature, ct);

    /// <summary>Holds our claim on a stage: renewed in the background until disposed, then deleted.</summary>
    public ClaimHold Hold(string signature) => new(this, signature);

    public bool IsOff
    {
        get { lock (_lock) return _off; }
    }

    /// <summary>The stage's claim; null when there is none (or it cannot be read as one).</summary>
    public async Task<StageClaim?> ReadAsync(string signature, CancellationToken ct)
    {
        RawManifest raw;
        try
        {
            raw = await client.GetManifestExactAsync(ImageReference.WithTag(repository, Tag(signature)), ct);
        }
        catch (RegistryException e) when (e.IsNotFound)
        {
            return null;
        }
        try
        {
            using var json = JsonDocument.Parse(raw.Content);
            var annotations = json.RootElement.GetProperty("annotations");
            return new StageClaim(annotations.GetProperty(HolderKey).GetString()!,
                DateTimeOffset.Parse(annotations.GetProperty(ExpiresKey).GetString()!, CultureInfo.InvariantCulture), raw.Digest);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Claims the stage unless another holder's claim is live: writes ours and reads it back. Held when ours is what the
    /// registry has (or claims are off: build without them).
    /// </summary>
    public async Task<ClaimAttempt> TryTakeAsync(string signature, CancellationToken ct)
    {
        if (IsOff) return new ClaimAttempt(true, null);
        var current = await ReadAsync(signature, ct);
        if (current is { IsLive: true } && current.Holder != Holder) return new ClaimAttempt(false, current);
        if (!await WriteAsync(signature, ct)) return new ClaimAttempt(true, null);
        var back = await ReadAsync(signature, ct);
        return back is null || back.Holder == Holder ? new ClaimAttempt(true, null) : new ClaimAttempt(false, back);
    }

    /// <summary>Extends our claim while we build; false when another host holds it now (ours expired and was taken).</summary>
    public async Task<bool> RenewAsync(string signature, CancellationToken ct)
    {
        if (IsOff) return true;
        var current = await ReadAsync(signature, ct);
        if (current is not null && current.Holder != Holder && current.IsLive) return false;
        await WriteAsync(signature, ct);
        return true;
    }

    /// <summary>Deletes our claim (the stage is published, or the build failed); another's, or a refused delete, is left to expire.</summary>
    public async Task ReleaseAsync(string signature, CancellationToken ct)
    {
        if (IsOff) return;
        try
        {
            if (await ReadAsync(signature, ct) is { } current && current.Holder == Holder)
                await client.DeleteManifestAsync(repository, current.Digest, ct);
        }
        catch (RegistryException)
        {
            // It expires on its own.
        }
    }

    private async Task<bool> WriteAsync(string signature, CancellationToken ct)
    {
        try
        {
            Task upload;
            lock (_lock) upload = _configUploaded ??= client.UploadBlobAsync(repository, EmptyConfigDescriptor,
                (offset, _) => Task.FromResult<Stream>(new MemoryStream(EmptyConfig, (int)offset, EmptyConfig.Length - (int)offset)), null, null, ct);
            await upload;
            var manifest = Manifest(DateTimeOffset.UtcNow + ttl);
            await client.PutManifestAsync(repository, Tag(signature), manifest, ct);
            return true;
        }
        catch (RegistryException e) when (IsRefusal(e))
        {
            lock (_lock)
            {
                if (_off) return false;
                _off = true;
            }
            warn($"the registry refuses claims in {repository} ({e.Message}): hosts building this project at once may build the same stages; results are correct either way");
            return false;
        }
    }

    private static bool IsRefusal(RegistryException e) =>
        e.Code is RegistryErrorCode.Denied or RegistryErrorCode.Unauthorized or RegistryErrorCode.Unsupported or RegistryErrorCode.TagInvalid
            or RegistryErrorCode.ManifestInvalid or RegistryErrorCode.NameInvalid
        || e.Status is HttpStatusCode.Forbidden or HttpStatusCode.MethodNotAllowed or HttpStatusCode.Conflict;

    private RawManifest Manifest(DateTimeOffset expires)
    {
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = new JsonObject
            {
                ["mediaType"] = EmptyConfigDescriptor.MediaType,
                ["digest"] = EmptyConfigDescriptor.Digest,
                ["size"] = EmptyConfigDescriptor.Size,
            },
            ["layers"] = new JsonArray(),
            ["annotations"] = new JsonObject
            {
                [HolderKey] = Holder,
                [ExpiresKey] = expires.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            },
        };
        var content = RegistryDimgImages.Serialize(manifest);
        return new RawManifest(content, MediaTypes.OciManifest, Digest.Of(content));
    }
}

/// <summary>A claim this process holds while it builds a stage: renewed every <see cref="StageClaims.RenewEvery"/>, deleted on dispose.</summary>
public sealed class ClaimHold : IAsyncDisposable
{
    private readonly StageClaims _claims;
    private readonly string _signature;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewing;

    internal ClaimHold(StageClaims claims, string signature)
    {
        _claims = claims;
        _signature = signature;
        _renewing = RenewAsync();
    }

    private async Task RenewAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(_claims.RenewEvery, _stop.Token);
                // Taken by another host after ours expired: building on is still correct, only not alone any more.
                if (!await _claims.RenewAsync(_signature, _stop.Token)) return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or DappException)
        {
            // Stopped, or the registry failed a renewal: the claim expires on its own.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewing;
        _stop.Dispose();
        await _claims.ReleaseAsync(_signature, CancellationToken.None);
    }
}
