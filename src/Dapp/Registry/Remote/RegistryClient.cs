using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote.Handlers;

namespace Dapp.Registry.Remote;

public enum BlobUploadResult
{
    /// <summary>The registry had the blob already: nothing was sent.</summary>
    Existed,
    /// <summary>Mounted from another repository of the same registry: nothing was sent.</summary>
    Mounted,
    Uploaded,
}

/// <summary>
/// A client for the Docker Registry HTTP API v2 / OCI distribution spec: manifests, tags and blobs, streamed and
/// verified. Safe for many concurrent operations; one instance per command.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    private const string Pull = "pull";
    private const string Push = "push";
    private readonly RegistryTransport _transport;

    public RegistryClient(RegistryClientOptions? options = null) =>
        _transport = new RegistryTransport((options ?? new RegistryClientOptions()).WithEnvironmentDefaults());

    public void Dispose() => _transport.Dispose();

    /// <summary>The requests this client has sent to registries and token servers, retries included.</summary>
    public long RequestCount => _transport.Requests.Count;

    /// <summary>The requests sent so far, by kind.</summary>
    public Handlers.RequestCounter Requests => _transport.Requests;

    /// <summary>The credentials used for a registry (from the options or the Docker config), for the engine's own transfers.</summary>
    public Task<RegistryCredential?> CredentialAsync(string registry, CancellationToken ct) => _transport.Auth.CredentialAsync(registry, ct);

    /// <summary>
    /// Checks that the server is a Docker registry (a <c>/v2/</c> that answers as one: the API version header or a JSON
    /// body) and that it accepts our credentials for the repository.
    /// </summary>
    public async Task PingAsync(RepositoryName repository, CancellationToken ct)
    {
        var what = $"ping {repository.Registry}";
        using var response = await SendAsync(Request(HttpMethod.Get, repository, "v2/", [Scope(repository, Pull)]), what, ct);
        if (!response.IsSuccessStatusCode)
        {
            var error = await ErrorAsync(response, what, ct);
            throw error.Errors.Count > 0 || response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests || RegistryException.IsTransientStatus(response.StatusCode)
                ? error
                : NotARegistry(repository, $"GET /v2/ answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        if (response.Headers.TryGetValues("Docker-Distribution-API-Version", out var versions) && versions.Any(v => v.StartsWith("registry/2", StringComparison.OrdinalIgnoreCase)))
            return;
        var body = await RegistryErrorReader.ReadLimitedAsync(response.Content, RegistryErrorReader.MaxErrorBody, ct);
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object) return;
        }
        catch (JsonException)
        {
        }
        throw NotARegistry(repository, $"GET /v2/ answered {(int)response.StatusCode} with {response.Content.Headers.ContentType?.MediaType ?? "no content type"} ({RegistryErrorReader.Excerpt(body)}), without the Docker-Distribution-API-Version header");
    }

    private RegistryException NotARegistry(RepositoryName repository, string what) =>
        new($"{_transport.BaseUri(repository).GetLeftPart(UriPartial.Authority)} does not look like a Docker registry: {what}. Check the host and port of REPO.",
            RegistryErrorCode.NotARegistry, null);

    /// <summary>The manifest's digest, size and type; null when the tag, digest or repository does not exist.</summary>
    public async Task<ManifestInfo?> HeadManifestAsync(ImageReference reference, CancellationToken ct)
    {
        using (var response = await SendAsync(ManifestRequest(HttpMethod.Head, reference), $"{reference}", ct))
        {
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, $"{reference}", ct);
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (mediaType is not null && !MediaTypes.IsManifestAnswer(mediaType))
                throw NotARegistry(reference.Repository, $"a manifest request for {reference} answered {mediaType}, not a manifest");
            if (response.Headers.TryGetValues("Docker-Content-Digest", out var values))
            {
                var digest = values.First();
                if (!Digest.TryParse(digest, out _))
                    throw NotARegistry(reference.Repository, $"a manifest request for {reference} answered a malformed Docker-Content-Digest '{Shorten(digest)}'");
                return new ManifestInfo(digest, response.Content.Headers.ContentLength ?? 0, mediaType ?? MediaTypes.DockerManifest);
            }
        }
        // Some registries leave the digest out of HEAD answers: read the manifest instead.
        var manifest = await GetManifestExactAsync(reference, ct);
        return new ManifestInfo(manifest.Digest, manifest.Content.Length, manifest.MediaType);
    }

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "…";

    /// <summary>The image manifest; from an index, the one for <paramref name="platform"/> (default linux/amd64).</summary>
    public async Task<RawManifest> GetManifestAsync(ImageReference reference, Platform? platform, CancellationToken ct)
    {
        var manifest = await GetManifestExactAsync(reference, ct);
        if (!manifest.IsIndex) return manifest;
        var wanted = platform ?? Platform.LinuxAmd64;
        var chosen = manifest.AsIndex().Manifests.FirstOrDefault(m => wanted.Matches(m.Platform))
            ?? throw new RegistryException($"{reference}: the image index has no manifest for {wanted} (it has {string.Join(", ", manifest.AsIndex().Manifests.Select(m => m.Platform?.ToString() ?? "?"))})", RegistryErrorCode.ManifestUnknown, HttpStatusCode.NotFound);
        return await GetManifestExactAsync(ImageReference.WithDigest(reference.Repository, chosen.Digest), ct);
    }

    /// <summary>The manifest or index exactly as stored, its digest verified when asked for by digest.</summary>
    public async Task<RawManifest> GetManifestExactAsync(ImageReference reference, CancellationToken ct)
    {
        using var response = await SendAsync(ManifestRequest(HttpMethod.Get, reference), $"{reference}", ct);
        if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, $"{reference}", ct);
        var content = await ReadBodyAsync(response, MaxManifestSize, $"{reference}", ct);
        var digest = Digest.Of(content);
        if (reference.Digest is not null && reference.Digest != digest)
            throw RegistryException.Invalid(reference.ToString(), $"the registry sent a manifest whose digest is {digest}", RegistryErrorCode.DigestInvalid, response.StatusCode);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        JsonElement root;
        try
        {
            using var json = JsonDocument.Parse(content);
            root = json.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw NotARegistry(reference.Repository, $"the manifest of {reference} is not JSON ({mediaType ?? "no content type"}: {RegistryErrorReader.Excerpt(content)})");
        }
        if (root.ValueKind != JsonValueKind.Object)
            throw RegistryException.Invalid(reference.ToString(), "the registry sent a manifest that is not a JSON object", RegistryErrorCode.ManifestInvalid, response.StatusCode);
        if (mediaType is null or "application/json" or "text/plain")
            mediaType = root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString()
                : root.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex : MediaTypes.OciManifest;
        else if (!MediaTypes.IsManifestAnswer(mediaType))
            throw NotARegistry(reference.Repository, $"a manifest request for {reference} answered {mediaType}, not a manifest");
        return new RawManifest(content, mediaType!, digest);
    }

    /// <summary>Manifests are small; the spec lets registries refuse those over 4 MiB.</summary>
    private const int MaxManifestSize = 4 << 20;

    private static async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, int limit, string what, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength > limit)
            throw RegistryException.Invalid(what, $"the registry sent {response.Content.Headers.ContentLength} bytes, more than the {limit} a manifest may have", RegistryErrorCode.ManifestInvalid, response.StatusCode);
        var body = await RegistryErrorReader.ReadLimitedAsync(response.Content, limit + 1, ct);
        if (body.Length > limit)
            throw RegistryException.Invalid(what, $"the registry sent more than the {limit} bytes a manifest may have", RegistryErrorCode.ManifestInvalid, response.StatusCode);
        return body;
    }

    /// <summary>
    /// Stores a manifest under a tag (or its digest); returns its digest. A "manifest blob unknown" answer is retried
    /// within the operation's budget: the reference registry (distribution's filesystem storage) rewrites a blob's
    /// link in place each time an upload of that blob is committed, and a manifest checked in that instant names a
    /// blob "unknown" that was there before and is again after. Two clients pushing one layer at once (two hosts
    /// publishing one stage) hit this; a blob really missing still fails, once the budget is spent.
    /// </summary>
    public async Task<string> PutManifestAsync(RepositoryName repository, string tagOrDigest, RawManifest manifest, CancellationToken ct)
    {
        var reference = tagOrDigest.StartsWith("sha256:", StringComparison.Ordinal)
            ? ImageReference.WithDigest(repository, tagOrDigest) : ImageReference.WithTag(repository, tagOrDigest);
        var what = $"push manifest {reference}";
        var budget = _transport.Policy.NewBudget();
        while (true)
        {
            var request = Request(HttpMethod.Put, repository, $"v2/{repository.Repository}/manifests/{reference.Identifier}", [Scope(repository, Pull, Push)], budget);
            request.Content = new ByteArrayContent(manifest.Content);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
            using var response = await SendAsync(request, what, ct);
            if (response.IsSuccessStatusCode) return manifest.Digest;
            var error = await ErrorAsync(response, what, ct);
            // Transient statuses were the transport's to retry; what is left to mend here is a racing pusher's blob.
            if (RegistryException.IsTransientStatus(response.StatusCode) || !error.IsTransient || !budget.TryTake(RetryCause.Transient, null, out var delay))
                throw error;
            await Task.Delay(delay, _transport.Policy.Time, ct);
        }
    }

    /// <summary>Deletes a manifest by digest (every tag pointing at it goes with it).</summary>
    public async Task DeleteManifestAsync(RepositoryName repository, string digest, CancellationToken ct)
    {
        var reference = ImageReference.WithDigest(repository, digest);
        using var response = await SendAsync(Request(HttpMethod.Delete, repository, $"v2/{repository.Repository}/manifests/{digest}", [Scope(repository, "delete")]),
            $"delete {reference}", ct);
        if (response.StatusCode == HttpStatusCode.MethodNotAllowed)
            throw new RegistryException($"delete {reference}: 405 Method Not Allowed", RegistryErrorCode.Unsupported, response.StatusCode);
        if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, $"delete {reference}", ct);
    }

    /// <summary>Every tag of the repository, following <c>Link</c> pagination.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(RepositoryName repository, int pageSize, CancellationToken ct) =>
        await ListPagedAsync(repository, $"v2/{repository.Repository}/tags/list?n={pageSize}", RegistryJson.Default.TagList,
            page => page.Tags ?? [], $"list tags of {repository}", Scope(repository, Pull), ct);

    /// <summary>Every repository of the registry (its catalog), following <c>Link</c> pagination.</summary>
    public async Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, int pageSize, CancellationToken ct)
    {
        var any = new RepositoryName(registry, "catalog");
        return await ListPagedAsync(any, $"v2/_catalog?n={pageSize}", RegistryJson.Default.Catalog,
            page => page.Repositories ?? [], $"list the repositories of {registry}", "registry:catalog:*", ct);
    }

    private async Task<IReadOnlyList<string>> ListPagedAsync<TPage>(RepositoryName repository, string firstPage,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TPage> type, Func<TPage, IEnumerable<string>> items, string what,
        string scope, CancellationToken ct)
    {
        var all = new List<string>();
        string? next = firstPage;
        while (next is not null)
        {
            using var response = await SendAsync(Request(HttpMethod.Get, repository, next, [scope]), what, ct);
            if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, what, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            try
            {
                if (JsonSerializer.Deserialize(body, type) is { } page) all.AddRange(items(page));
            }
            catch (JsonException)
            {
                throw NotARegistry(repository, $"{what} answered something that is not a listing ({RegistryErrorReader.Excerpt(body)})");
            }
            next = NextLink(response);
        }
        return all;
    }

    /// <summary>The blob's size, or null when the repository does not have it.</summary>
    public Task<long?> HeadBlobAsync(RepositoryName repository, string digest, CancellationToken ct) =>
        HeadBlobAsync(repository, digest, [Scope(repository, Pull)], null, ct);

    private async Task<long?> HeadBlobAsync(RepositoryName repository, string digest, IReadOnlyList<string> scopes, RetryBudget? budget, CancellationToken ct)
    {
        using var response = await SendAsync(Request(HttpMethod.Head, repository, $"v2/{repository.Repository}/blobs/{digest}", scopes, budget),
            $"{repository}@{digest}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, $"{repository}@{digest}", ct);
        return response.Content.Headers.ContentLength ?? 0;
    }

    /// <summary>
    /// Streams a blob into <paramref name="sink"/>, verifying its sha256 while streaming. A broken connection is
    /// resumed with a Range request where it broke (or the start is re-read and skipped when the registry ignores
    /// Range), within the download's retry budget. Throws when the content does not match its digest: the caller
    /// must discard what the sink got.
    /// </summary>
    public async Task DownloadBlobAsync(RepositoryName repository, Descriptor blob, Stream sink, IProgress<long>? progress, CancellationToken ct)
    {
        var what = $"{repository}@{blob.Digest}";
        var budget = _transport.Policy.NewBudget();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long written = 0;
        var buffer = new byte[128 * 1024];
        while (true)
        {
            try
            {
                var request = Request(HttpMethod.Get, repository, $"v2/{repository.Repository}/blobs/{blob.Digest}", [Scope(repository, Pull)], budget);
                if (written > 0) request.Headers.Range = new RangeHeaderValue(written, null);
                using var response = await SendAsync(request, what, ct, HttpCompletionOption.ResponseHeadersRead);
                if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, what, ct);
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                var skip = response.StatusCode == HttpStatusCode.PartialContent ? 0 : written;
                while (true)
                {
                    var read = await ReadWithTimeoutAsync(body, buffer, ct);
                    if (read == 0) break;
                    var chunk = buffer.AsMemory(0, read);
                    if (skip > 0)
                    {
                        var skipped = (int)Math.Min(skip, read);
                        skip -= skipped;
                        chunk = chunk[skipped..];
                        if (chunk.IsEmpty) continue;
                    }
                    if (written + chunk.Length > blob.Size)
                        throw RegistryException.Invalid(what, $"the registry sent more than the {blob.Size} bytes of the blob", RegistryErrorCode.SizeInvalid, response.StatusCode);
                    hash.AppendData(chunk.Span);
                    await sink.WriteAsync(chunk, ct);
                    written += chunk.Length;
                    progress?.Report(chunk.Length);
                }
                if (written < blob.Size) throw new IOException($"the connection ended after {written} of {blob.Size} bytes");
                break;
            }
            catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
            {
                // The body broke off: what to resend is the rest from `written`; whether is the budget's call.
                if (!budget.TryTake(e is StalledException ? RetryCause.Timeout : RetryCause.Transient, null, out var delay))
                    throw new RegistryException($"{what}: download failed after {written} of {blob.Size} bytes: {e.Message} (gave up after {budget.Retries} retries)",
                        RegistryErrorCode.Unreachable, null, e);
                if (e is StalledException) _transport.Options.Warn?.Invoke($"{what}: {e.Message} after {written} of {blob.Size} bytes; resuming once more");
                await Task.Delay(delay, _transport.Policy.Time, ct);
            }
        }
        var actual = Digest.FromHash(hash.GetHashAndReset());
        if (actual != blob.Digest)
            throw RegistryException.Invalid(what, $"the downloaded content has the digest {actual}", RegistryErrorCode.DigestInvalid);
    }

    private sealed class StalledException(string message) : IOException(message);

    /// <summary>A read that stalls longer than the request timeout counts as a broken connection.</summary>
    private async Task<int> ReadWithTimeoutAsync(Stream body, byte[] buffer, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_transport.Options.RequestTimeout);
        try
        {
            return await body.ReadAsync(buffer, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new StalledException($"no data for {_transport.Options.RequestTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>
    /// Uploads a blob unless the repository has it; mounts it from <paramref name="mountFrom"/> when given and the
    /// registry knows it there. <paramref name="openAt"/> opens the content at an offset (for resuming after errors).
    /// Every request of the upload draws from one retry budget; recovery only decides what to send again: the rest
    /// of the upload from where the registry says it stands, or a new upload session when the old one is lost.
    /// </summary>
    public async Task<BlobUploadResult> UploadBlobAsync(RepositoryName repository, Descriptor blob,
        Func<long, CancellationToken, Task<Stream>> openAt, RepositoryName? mountFrom, IProgress<long>? progress, CancellationToken ct)
    {
        var what = $"upload {repository}@{blob.Digest}";
        var budget = _transport.Policy.NewBudget();
        string[] scopes = mountFrom is not null && mountFrom.Registry == repository.Registry && mountFrom != repository
            ? [Scope(repository, Pull, Push), Scope(mountFrom, Pull)]
            : [Scope(repository, Pull, Push)];
        if (await HeadBlobAsync(repository, blob.Digest, scopes, budget, ct) is not null) return BlobUploadResult.Existed;

        var upload = new BlobUpload(this, repository, scopes, blob, openAt, progress, budget, what);
        while (true)
        {
            var query = scopes.Length > 1 ? $"?mount={blob.Digest}&from={Uri.EscapeDataString(mountFrom!.Repository)}" : "";
            Uri location;
            using (var start = await SendAsync(Request(HttpMethod.Post, repository, $"v2/{repository.Repository}/blobs/uploads/{query}", scopes, budget), what, ct))
            {
                if (start.StatusCode == HttpStatusCode.Created && scopes.Length > 1) return BlobUploadResult.Mounted;
                if (start.StatusCode != HttpStatusCode.Accepted) throw await ErrorAsync(start, what, ct);
                location = Location(repository, start);
            }
            try
            {
                await upload.SendAsync(location, ct);
                return BlobUploadResult.Uploaded;
            }
            catch (RegistryException e) when (BlobUpload.IsLost(e) && budget.TryTake(BlobUpload.CauseOf(e), null, out var delay))
            {
                await Task.Delay(delay, _transport.Policy.Time, ct);
            }
        }
    }

    /// <summary>One blob's content sent into an upload session: whole, or in chunks resumed where the registry says it stands.</summary>
    private sealed class BlobUpload(RegistryClient client, RepositoryName repository, string[] scopes, Descriptor blob,
        Func<long, CancellationToken, Task<Stream>> openAt, IProgress<long>? progress, RetryBudget budget, string what)
    {
        /// <summary>
        /// The session cannot go on, but a new one can: a transient failure (Distribution signs the offset into the
        /// upload URL's <c>_state</c>: once it took data the client never heard about, that URL is refused with
        /// BLOB_UPLOAD_INVALID), or a session the registry no longer knows (a plain 404 from some registries).
        /// </summary>
        public static bool IsLost(RegistryException e) => e.IsTransient || e.Status == HttpStatusCode.NotFound;

        public async Task SendAsync(Uri location, CancellationToken ct)
        {
            if (blob.Size <= client._transport.Options.MonolithicUploadLimit)
            {
                // The timeout counts from the last piece sent (TimeoutHandler): no allowance for the body's size.
                var put = client.Upload(HttpMethod.Put, repository, WithDigest(location, blob.Digest), scopes, budget, 0);
                put.Content = new ReopeningContent(openAt, 0, blob.Size, progress);
                await FinishAsync(put, ct);
                return;
            }
            long offset = 0;
            while (offset < blob.Size)
            {
                var length = Math.Min(client._transport.Options.ChunkSize, blob.Size - offset);
                var patch = client.Upload(HttpMethod.Patch, repository, location, scopes, budget, 0);
                patch.Content = new ReopeningContent(openAt, offset, length, progress);
                patch.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                patch.Content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + length - 1}");
                try
                {
                    using var response = await client.SendAsync(patch, what, ct);
                    if (response.StatusCode != HttpStatusCode.Accepted) throw await ErrorAsync(response, what, ct);
                    location = client.Location(repository, response);
                    offset = RangeEnd(response) ?? offset + length;
                }
                catch (RegistryException e) when (IsLost(e) && budget.TryTake(CauseOf(e), null, out var delay))
                {
                    // Ask the upload where it stands and go on from there; a lost session throws, and a new one starts.
                    await Task.Delay(delay, budget.Policy.Time, ct);
                    (location, offset) = await StatusAsync(location, ct);
                }
            }
            await FinishAsync(client.Upload(HttpMethod.Put, repository, WithDigest(location, blob.Digest), scopes, budget, blob.Size / 16), ct);
        }

        /// <summary>A request that got no answer in time counts as a timeout: an upload that keeps stalling fails after two, not six.</summary>
        public static RetryCause CauseOf(RegistryException e) => e.InnerException is TimeoutException ? RetryCause.Timeout : RetryCause.Transient;

        /// <summary>The closing PUT; when its answer is lost, the blob may be complete all the same: the registry says.</summary>
        private async Task FinishAsync(HttpRequestMessage put, CancellationToken ct)
        {
            try
            {
                using var response = await client.SendAsync(put, what, ct);
                if (response.StatusCode != HttpStatusCode.Created) throw await ErrorAsync(response, what, ct);
            }
            catch (RegistryException e) when (IsLost(e))
            {
                if (await client.HeadBlobAsync(repository, blob.Digest, scopes, budget, ct) != blob.Size) throw;
            }
        }

        private async Task<(Uri Location, long Offset)> StatusAsync(Uri location, CancellationToken ct)
        {
            using var response = await client.SendAsync(client.Upload(HttpMethod.Get, repository, location, scopes, budget, 0), what, ct);
            if (response.StatusCode != HttpStatusCode.NoContent) throw await ErrorAsync(response, what, ct);
            return (client.Location(repository, response), RangeEnd(response) ?? 0);
        }
    }

    /// <summary>
    /// A request to an upload location, with time for the registry to read <paramref name="bytes"/> at 256 KiB/s before
    /// the answer is due (the closing PUT of a chunked upload, when it checks the whole blob's digest).
    /// </summary>
    private HttpRequestMessage Upload(HttpMethod method, RepositoryName repository, Uri location, IReadOnlyList<string> scopes, RetryBudget budget, long bytes) =>
        new HttpRequestMessage(method, location)
            .With(RegistryRequest.Registry, repository.Registry)
            .With(RegistryRequest.Scopes, scopes)
            .With(RegistryRequest.Budget, budget)
            .With(RegistryRequest.Timeout, _transport.Options.RequestTimeout + TimeSpan.FromSeconds(bytes / (256.0 * 1024)));

    /// <summary>The next offset from a <c>Range: 0-N</c> header.</summary>
    private static long? RangeEnd(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Range", out var values)) return null;
        var range = values.First();
        var dash = range.LastIndexOf('-');
        return dash >= 0 && long.TryParse(range[(dash + 1)..], out var end) ? end + 1 : null;
    }

    private Uri Location(RepositoryName repository, HttpResponseMessage response)
    {
        var location = response.Headers.Location ?? throw RegistryException.Invalid(repository.ToString(), "the registry sent no upload location", RegistryErrorCode.NotARegistry, response.StatusCode);
        return location.IsAbsoluteUri ? location : new Uri(_transport.BaseUri(repository), location);
    }

    private static Uri WithDigest(Uri location, string digest) =>
        new(location + (string.IsNullOrEmpty(location.Query) ? "?" : "&") + "digest=" + Uri.EscapeDataString(digest));

    private static string Scope(RepositoryName repository, params string[] actions) => RegistryAuthenticator.Scope(repository, actions);

    /// <summary>
    /// Sends through the transport; what the retries could not mend becomes a <see cref="RegistryException"/> that
    /// says the registry could not be reached, how, and how often it was tried.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken ct,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        if (!request.Options.TryGetValue(RegistryRequest.Budget, out var budget))
            request.With(RegistryRequest.Budget, budget = _transport.Policy.NewBudget());
        var registry = request.Options.TryGetValue(RegistryRequest.Registry, out var name) ? name : request.RequestUri!.Authority;
        try
        {
            return await _transport.Http.SendAsync(request, completion, ct);
        }
        catch (TimeoutException e) when (!ct.IsCancellationRequested)
        {
            throw RegistryException.NoAnswer(what, registry, e, budget.Retries + 1);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.InvalidResponse && !ct.IsCancellationRequested)
        {
            throw RegistryException.NotHttp(what, request.RequestUri?.GetLeftPart(UriPartial.Authority) ?? registry, e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or SocketException && !ct.IsCancellationRequested)
        {
            throw RegistryException.Unreachable(what, registry, e, budget.Retries);
        }
    }

    private HttpRequestMessage Request(HttpMethod method, RepositoryName repository, string path, IReadOnlyList<string> scopes, RetryBudget? budget = null)
    {
        var request = new HttpRequestMessage(method, new Uri(_transport.BaseUri(repository), path))
            .With(RegistryRequest.Registry, repository.Registry)
            .With(RegistryRequest.Scopes, scopes);
        return budget is null ? request : request.With(RegistryRequest.Budget, budget);
    }

    private HttpRequestMessage ManifestRequest(HttpMethod method, ImageReference reference)
    {
        var request = Request(method, reference.Repository, $"v2/{reference.Repository.Repository}/manifests/{reference.Identifier}", [Scope(reference.Repository, Pull)]);
        foreach (var type in MediaTypes.Accepted) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        return request;
    }

    private static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            if (!link.Contains("rel=\"next\"", StringComparison.Ordinal)) continue;
            var start = link.IndexOf('<');
            var end = link.IndexOf('>');
            if (start >= 0 && end > start) return link[(start + 1)..end].TrimStart('/');
        }
        return null;
    }

    private static Task<RegistryException> ErrorAsync(HttpResponseMessage response, string what, CancellationToken ct) =>
        RegistryErrorReader.ReadAsync(response, what, ct);
}
