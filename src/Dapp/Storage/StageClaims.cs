using System.Globalization;
using System.Net;
using System.Text.Json;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Storage;

/// <summary>Who holds a stage's claim (and which process that is, when recorded), until when.</summary>
public sealed record StageClaim(string Holder, DateTimeOffset Expires, string Digest, ProcessOwner? Owner = null)
{
    /// <summary>
    /// Unexpired, and not held by a process of this host that has ended (a killed job's claim: nobody renews it, and a
    /// rerun on the same host takes it over at once instead of waiting out its expiry).
    /// </summary>
    public bool IsLiveAt(DateTimeOffset now) => Expires > now && Owner?.HasEnded(ProcessOwner.Current) != true;
}

/// <summary>Claims on stages, so that hosts building one project at once build each stage about once (<see cref="StageClaims"/>).</summary>
internal interface IStageClaims
{
    /// <summary>Off when the registry refused a claim write: the build goes on without claims.</summary>
    bool IsOff { get; }

    /// <summary>Whether the stage is in the stages storage now.</summary>
    Task<bool> IsPublishedAsync(string signature, CancellationToken ct);

    /// <summary>Claims the stage unless another holder's claim is live.</summary>
    Task<ClaimAttempt> TryTakeAsync(string signature, CancellationToken ct);

    /// <summary>Holds our claim while the stage builds: checked once writes that raced with ours have landed, renewed, deleted on dispose.</summary>
    IClaimHold Hold(string signature);
}

/// <summary>A claim held while a stage builds (<see cref="ClaimHold"/>).</summary>
public interface IClaimHold : IAsyncDisposable
{
    /// <summary>Cancelled when another host's claim turns out to have won: the build of the stage here should stop.</summary>
    CancellationToken Lost { get; }

    bool IsLost { get; }

    /// <summary>Waits for the settle check; throws <see cref="OperationCanceledException"/> when the claim was lost.</summary>
    Task ConfirmAsync(CancellationToken ct);
}

/// <summary>What came of trying to claim a stage.</summary>
public sealed record ClaimAttempt(bool Held, StageClaim? Other);

/// <summary>
/// Claims on stages in the registry, so that hosts building one project at once build each stage about once
/// (docs/distributed.md). A claim is a layer-less OCI manifest under <c>REPO:dimgclaim-&lt;signature&gt;</c> whose
/// annotations name the holder and an expiry; a host writes its claim unless another's is live, and the last writer
/// holds it. The registry has no "write if absent", so two hosts that both found the tag free can both write and each
/// read its own claim back; as in Fischer's mutual exclusion, a holder reads the claim again once every write that
/// could have raced with its own has landed (<see cref="Settle"/> after its write) and gives the stage up if a later
/// writer has it. The holder renews it while it builds and deletes it once the stage is published. Claims only save
/// work: correctness never depends on them (stage tags are written only while free). A registry that refuses claim
/// writes turns them off for the command, with one warning.
/// </summary>
public sealed class StageClaims(RemoteRepository remote, TimeSpan ttl, Action<string> warn,
    Func<string, CancellationToken, Task<bool>> isPublished, TimeSpan? minimumSettle = null, TimeProvider? time = null) : IStageClaims
{
    public const string TagPrefix = "dimgclaim-";
    private const string HolderKey = "dapp.claim.holder";
    private const string ExpiresKey = "dapp.claim.expires";
    private const string OwnerKey = "dapp.claim.owner";
    private readonly EmptyManifests _manifests = new(remote);
    private readonly Lock _lock = new();
    private bool _off;
    private TimeSpan _slowestWrite;

    /// <summary>This process, as other hosts see it in <c>[WAITING]</c>.</summary>
    public string Holder { get; } = $"{ProcessOwner.Current.Host}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Renewals come this often, well before the claim expires.</summary>
    public TimeSpan RenewEvery => ttl / 3;

    /// <summary>
    /// How long after its write a holder checks that no other host's write raced with it: longer than another host
    /// takes from finding the tag free to its write landing (four times the slowest claim write seen, at least 0.25 s,
    /// at most 3 s). The check runs while the stage builds; only its commit waits for it.
    /// </summary>
    public TimeSpan Settle
    {
        get
        {
            var minimum = minimumSettle ?? TimeSpan.FromMilliseconds(250);
            lock (_lock) return TimeSpan.FromTicks(Math.Clamp(4 * _slowestWrite.Ticks, minimum.Ticks, Math.Max(minimum.Ticks, MaximumSettle.Ticks)));
        }
    }

    private static readonly TimeSpan MaximumSettle = TimeSpan.FromSeconds(3);

    /// <summary>The clock of expiries, renewals and the settle check.</summary>
    public TimeProvider Time { get; } = time ?? TimeProvider.System;

    public static string Tag(string signature) => TagPrefix + signature;

    /// <summary>Whether the stage is in the registry now (asked again, not from a command's cache).</summary>
    public Task<bool> IsPublishedAsync(string signature, CancellationToken ct) => isPublished(signature, ct);

    /// <summary>Holds our claim on a stage: renewed in the background until disposed, then deleted.</summary>
    public IClaimHold Hold(string signature) => new ClaimHold(this, signature);

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
            raw = await remote.Client.GetManifestExactAsync(ImageReference.WithTag(remote.Name, Tag(signature)), ct);
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
                DateTimeOffset.Parse(annotations.GetProperty(ExpiresKey).GetString()!, CultureInfo.InvariantCulture), raw.Digest,
                annotations.TryGetProperty(OwnerKey, out var owner) ? ProcessOwner.Parse(owner.GetString()) : null);
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
        // Uploaded before the read, so that nothing but the claim's own write lies between finding the tag free and writing it.
        if (!await EnsureEmptyConfigAsync(ct)) return new ClaimAttempt(true, null);
        var current = await ReadAsync(signature, ct);
        if (HeldByAnother(current)) return new ClaimAttempt(false, current);
        if (!await WriteAsync(signature, ct)) return new ClaimAttempt(true, null);
        var back = await ReadAsync(signature, ct);
        return back is null || back.Holder == Holder ? new ClaimAttempt(true, null) : new ClaimAttempt(false, back);
    }

    /// <summary>
    /// False when our claim is gone: replaced by another host's live claim (its write raced with ours and landed
    /// later), or deleted, which only a holder that has published the stage since does (a settle check that comes
    /// late can find the winner done). Either way this host stops and asks again: the stage may be there to use.
    /// </summary>
    public async Task<bool> IsStillOursAsync(string signature, CancellationToken ct) =>
        IsOff || await ReadAsync(signature, ct) is { } claim && !HeldByAnother(claim);

    /// <summary>Extends our claim while we build; false when another host holds it now (ours expired and was taken).</summary>
    public async Task<bool> RenewAsync(string signature, CancellationToken ct)
    {
        if (IsOff) return true;
        if (HeldByAnother(await ReadAsync(signature, ct))) return false;
        await WriteAsync(signature, ct);
        return true;
    }

    private bool HeldByAnother(StageClaim? claim) => claim is not null && claim.IsLiveAt(Time.GetUtcNow()) && claim.Holder != Holder;

    /// <summary>Deletes our claim (the stage is published, or the build failed); another's, or a refused delete, is left to expire.</summary>
    public async Task ReleaseAsync(string signature, CancellationToken ct)
    {
        if (IsOff) return;
        try
        {
            if (await ReadAsync(signature, ct) is { } current && current.Holder == Holder)
                await remote.Client.DeleteManifestAsync(remote.Name, current.Digest, ct);
        }
        catch (RegistryException)
        {
            // It expires on its own.
        }
    }

    /// <summary>The claims' 2-byte config blob, uploaded once per command; false when the registry refuses it (claims are off).</summary>
    private async Task<bool> EnsureEmptyConfigAsync(CancellationToken ct)
    {
        try
        {
            await _manifests.EnsureConfigAsync(ct);
            return true;
        }
        catch (RegistryException e) when (!e.IsTransient)
        {
            TurnOff(e);
            return false;
        }
    }

    private async Task<bool> WriteAsync(string signature, CancellationToken ct)
    {
        if (!await EnsureEmptyConfigAsync(ct)) return false;
        try
        {
            var manifest = EmptyManifests.Create(new Dictionary<string, string>
            {
                [HolderKey] = Holder,
                [ExpiresKey] = (Time.GetUtcNow() + ttl).UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                [OwnerKey] = ProcessOwner.Current.ToString(),
            });
            var started = Time.GetTimestamp();
            await remote.Client.PutManifestAsync(remote.Name, Tag(signature), manifest, ct);
            var took = Time.GetElapsedTime(started);
            lock (_lock) if (took > _slowestWrite) _slowestWrite = took;
            return true;
        }
        catch (RegistryException e) when (!e.IsTransient)
        {
            TurnOff(e);
            return false;
        }
    }

    private void TurnOff(RegistryException e)
    {
        lock (_lock)
        {
            if (_off) return;
            _off = true;
        }
        warn($"the registry refuses claims in {remote} ({e.Message}): hosts building this project at once may build the same stages; results are correct either way");
    }
}

/// <summary>
/// A claim this process holds while it builds a stage: checked once <see cref="StageClaims.Settle"/> has passed (lost,
/// when another host's write raced with ours and landed later), then renewed every <see cref="StageClaims.RenewEvery"/>;
/// deleted on dispose.
/// </summary>
internal sealed class ClaimHold : IClaimHold
{
    private readonly StageClaims _claims;
    private readonly string _signature;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly TaskCompletionSource<bool> _confirmed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _holding;

    internal ClaimHold(StageClaims claims, string signature)
    {
        _claims = claims;
        _signature = signature;
        _holding = HoldAsync();
    }

    /// <summary>Cancelled when the settle check finds another host's claim: the build of the stage here should stop.</summary>
    public CancellationToken Lost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    /// <summary>Waits for the settle check; throws <see cref="OperationCanceledException"/> (on <see cref="Lost"/>) when the claim was lost.</summary>
    public async Task ConfirmAsync(CancellationToken ct)
    {
        if (!await _confirmed.Task.WaitAsync(ct)) throw new OperationCanceledException(_lost.Token);
    }

    private async Task HoldAsync()
    {
        try
        {
            await Task.Delay(_claims.Settle, _claims.Time, _stop.Token);
            var ours = await _claims.IsStillOursAsync(_signature, _stop.Token);
            if (!ours)
            {
                // Lost before the answer: whoever sees the confirmation fail sees IsLost too (the build asks it to
                // tell a lost race from a failure; in the other order it could find the claim not lost yet: seen once).
                CancelNow(_lost);
                _confirmed.TrySetResult(false);
                return;
            }
            _confirmed.TrySetResult(true);
            while (true)
            {
                await Task.Delay(_claims.RenewEvery, _claims.Time, _stop.Token);
                // Taken by another host after ours expired: building on is still correct, only not alone any more.
                if (!await _claims.RenewAsync(_signature, _stop.Token)) return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or DappException)
        {
            // Stopped, or the registry failed a check or renewal: the claim expires on its own, and a build goes on.
            _confirmed.TrySetResult(true);
        }
    }

    /// <summary>
    /// Cancels with the callbacks run here and now (they only cancel tasks): CancelAsync would run them on the thread
    /// pool, and the simulated hosts of the unit tests see the order of events change from run to run.
    /// </summary>
    private static void CancelNow(CancellationTokenSource source) => source.Cancel();

    public async ValueTask DisposeAsync()
    {
        CancelNow(_stop);
        await _holding;
        _stop.Dispose();
        if (!IsLost) await _claims.ReleaseAsync(_signature, CancellationToken.None);
        _lost.Dispose();
    }
}
