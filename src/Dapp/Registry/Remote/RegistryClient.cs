using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Dapp.Registry.Model;
using Dapp.Registry.Names;

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

    /// <summary>The credentials used for a registry (from the options or the Docker config), for the engine's own transfers.</summary>
    public Task<RegistryCredential?> CredentialAsync(string registry, CancellationToken ct) => _transport.Auth.CredentialAsync(registry, ct);

    /// <summary>Checks that the registry answers and accepts our credentials for the repository.</summary>
    public async Task PingAsync(RepositoryName repository, CancellationToken ct)
    {
        using var lease = await _transport.AcquireAsync(repository, ct);
        using var response = await SendAsync(repository, [Scope(repository, Pull)], () => Request(HttpMethod.Get, repository, "v2/"), $"ping {repository.Registry}", ct);
        if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, $"ping {repository.Registry}");
    }

    /// <summary>The manifest's digest, size and type; null when the tag, digest or repository does not exist.</summary>
    public async Task<ManifestInfo?> HeadManifestAsync(ImageReference reference, CancellationToken ct)
    {
        using (await _transport.AcquireAsync(reference.Repository, ct))
        {
            using var response = await SendAsync(reference.Repository, [Scope(reference.Repository, Pull)],
                () => ManifestRequest(HttpMethod.Head, reference), $"{reference}", ct);
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, $"{reference}");
            if (response.Headers.TryGetValues("Docker-Content-Digest", out var values))
                return new ManifestInfo(values.First(), response.Content.Headers.ContentLength ?? 0,
                    response.Content.Headers.ContentType?.MediaType ?? MediaTypes.DockerManifest);
        }
        // Some registries leave the digest out of HEAD answers: read the manifest instead.
        var manifest = await GetManifestExactAsync(reference, ct);
        return new ManifestInfo(manifest.Digest, manifest.Content.Length, manifest.MediaType);
    }

    /// <summary>The image manifest; from an index, the one for <paramref name="platform"/> (default linux/amd64).</summary>
    public async Task<RawManifest> GetManifestAsync(ImageReference reference, Platform? platform, CancellationToken ct)
    {
        var manifest = await GetManifestExactAsync(reference, ct);
        if (!manifest.IsIndex) return manifest;
        var wanted = platform ?? Platform.LinuxAmd64;
        var chosen = manifest.AsIndex().Manifests.FirstOrDefault(m => wanted.Matches(m.Platform))
            ?? throw new RegistryException($"{reference}: the image index has no manifest for {wanted} (it has {string.Join(", ", manifest.AsIndex().Manifests.Select(m => m.Platform?.ToString() ?? "?"))})", "MANIFEST_UNKNOWN", HttpStatusCode.NotFound);
        return await GetManifestExactAsync(ImageReference.WithDigest(reference.Repository, chosen.Digest), ct);
    }

    /// <summary>The manifest or index exactly as stored, its digest verified when asked for by digest.</summary>
    public async Task<RawManifest> GetManifestExactAsync(ImageReference reference, CancellationToken ct)
    {
        using var lease = await _transport.AcquireAsync(reference.Repository, ct);
        using var response = await SendAsync(reference.Repository, [Scope(reference.Repository, Pull)],
            () => ManifestRequest(HttpMethod.Get, reference), $"{reference}", ct);
        if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, $"{reference}");
        var content = await response.Content.ReadAsByteArrayAsync(ct);
        var digest = Digest.Of(content);
        if (reference.Digest is not null && reference.Digest != digest)
            throw new RegistryException($"{reference}: the registry sent a manifest whose digest is {digest}", "DIGEST_INVALID", response.StatusCode);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is null or "application/json" or "text/plain")
        {
            using var json = JsonDocument.Parse(content);
            mediaType = json.RootElement.TryGetProperty("mediaType", out var mt) ? mt.GetString()
                : json.RootElement.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex : MediaTypes.OciManifest;
        }
        return new RawManifest(content, mediaType!, digest);
    }

    /// <summary>Stores a manifest under a tag (or its digest); returns its digest.</summary>
    public async Task<string> PutManifestAsync(RepositoryName repository, string tagOrDigest, RawManifest manifest, CancellationToken ct)
    {
        var reference = tagOrDigest.StartsWith("sha256:", StringComparison.Ordinal)
            ? ImageReference.WithDigest(repository, tagOrDigest) : ImageReference.WithTag(repository, tagOrDigest);
        using var lease = await _transport.AcquireAsync(repository, ct);
        using var response = await SendAsync(repository, [Scope(repository, Pull, Push)], () =>
        {
            var request = Request(HttpMethod.Put, repository, $"v2/{repository.Repository}/manifests/{reference.Identifier}");
            request.Content = new ByteArrayContent(manifest.Content);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
            return request;
        }, $"push manifest {reference}", ct);
        if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, $"push manifest {reference}");
        return manifest.Digest;
    }

    /// <summary>Deletes a manifest by digest (every tag pointing at it goes with it).</summary>
    public async Task DeleteManifestAsync(RepositoryName repository, string digest, CancellationToken ct)
    {
        var reference = ImageReference.WithDigest(repository, digest);
        using var lease = await _transport.AcquireAsync(repository, ct);
        using var response = await SendAsync(repository, [Scope(repository, "delete")],
            () => Request(HttpMethod.Delete, repository, $"v2/{repository.Repository}/manifests/{digest}"), $"delete {reference}", ct);
        if (response.StatusCode == HttpStatusCode.MethodNotAllowed)
            throw new RegistryException($"delete {reference}: the registry {repository.Registry} does not allow deleting (storage.delete.enabled is off)", "UNSUPPORTED", response.StatusCode);
        if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, $"delete {reference}");
    }

    /// <summary>Every tag of the repository, following <c>Link</c> pagination.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(RepositoryName repository, int pageSize, CancellationToken ct) =>
        await ListPagedAsync(repository, $"v2/{repository.Repository}/tags/list?n={pageSize}", RegistryJson.Default.TagList,
            page => page.Tags ?? [], $"list tags of {repository}", ct);

    /// <summary>Every repository of the registry (its catalog), following <c>Link</c> pagination.</summary>
    public async Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, int pageSize, CancellationToken ct)
    {
        var any = new RepositoryName(registry, "catalog");
        return await ListPagedAsync(any, $"v2/_catalog?n={pageSize}", RegistryJson.Default.Catalog,
            page => page.Repositories ?? [], $"list the repositories of {registry}", ct, scope: "registry:catalog:*");
    }

    private async Task<IReadOnlyList<string>> ListPagedAsync<TPage>(RepositoryName repository, string firstPage,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<TPage> type, Func<TPage, IEnumerable<string>> items, string what,
        CancellationToken ct, string? scope = null)
    {
        var all = new List<string>();
        string? next = firstPage;
        while (next is not null)
        {
            var path = next;
            using var lease = await _transport.AcquireAsync(repository, ct);
            using var response = await SendAsync(repository, [scope ?? Scope(repository, Pull)], () => Request(HttpMethod.Get, repository, path), what, ct);
            if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, what);
            if (JsonSerializer.Deserialize(await response.Content.ReadAsByteArrayAsync(ct), type) is { } page) all.AddRange(items(page));
            next = NextLink(response);
        }
        return all;
    }

    /// <summary>The blob's size, or null when the repository does not have it.</summary>
    public async Task<long?> HeadBlobAsync(RepositoryName repository, string digest, CancellationToken ct)
    {
        using var lease = await _transport.AcquireAsync(repository, ct);
        return await HeadBlobUnlimitedAsync(repository, digest, ct);
    }

    private async Task<long?> HeadBlobUnlimitedAsync(RepositoryName repository, string digest, CancellationToken ct)
    {
        using var response = await SendAsync(repository, [Scope(repository, Pull)],
            () => Request(HttpMethod.Head, repository, $"v2/{repository.Repository}/blobs/{digest}"), $"{repository}@{digest}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, $"{repository}@{digest}");
        return response.Content.Headers.ContentLength ?? 0;
    }

    /// <summary>
    /// Streams a blob into <paramref name="sink"/>, verifying its sha256 while streaming. A broken connection is
    /// resumed with a Range request where it broke (or the start is re-read and skipped when the registry ignores
    /// Range). Throws when the content does not match its digest: the caller must discard what the sink got.
    /// </summary>
    public async Task DownloadBlobAsync(RepositoryName repository, Descriptor blob, Stream sink, IProgress<long>? progress, CancellationToken ct)
    {
        var what = $"{repository}@{blob.Digest}";
        using var lease = await _transport.AcquireAsync(repository, ct);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long written = 0;
        var buffer = new byte[128 * 1024];
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                var offset = written;
                using var response = await SendAsync(repository, [Scope(repository, Pull)], () =>
                {
                    var request = Request(HttpMethod.Get, repository, $"v2/{repository.Repository}/blobs/{blob.Digest}");
                    if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
                    return request;
                }, what, ct, HttpCompletionOption.ResponseHeadersRead);
                if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, what);
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
                        throw new RegistryException($"{what}: the registry sent more than the {blob.Size} bytes of the blob", "SIZE_INVALID", response.StatusCode);
                    hash.AppendData(chunk.Span);
                    await sink.WriteAsync(chunk, ct);
                    written += chunk.Length;
                    progress?.Report(chunk.Length);
                }
                if (written < blob.Size) throw new IOException($"the connection ended after {written} of {blob.Size} bytes");
                break;
            }
            catch (Exception e) when (e is IOException or HttpRequestException && attempt < _transport.Options.MaxRetries && !ct.IsCancellationRequested)
            {
                await Task.Delay(Backoff(attempt), ct);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new RegistryException($"{what}: download failed after {written} of {blob.Size} bytes: {e.Message}", null, null, e);
            }
        }
        var actual = Digest.FromHash(hash.GetHashAndReset());
        if (actual != blob.Digest)
            throw new RegistryException($"{what}: the downloaded content has the digest {actual}", "DIGEST_INVALID", null);
    }

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
            throw new IOException($"no data for {_transport.Options.RequestTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>
    /// Uploads a blob unless the repository has it; mounts it from <paramref name="mountFrom"/> when given and the
    /// registry knows it there. <paramref name="openAt"/> opens the content at an offset (for resuming after errors).
    /// </summary>
    public async Task<BlobUploadResult> UploadBlobAsync(RepositoryName repository, Descriptor blob,
        Func<long, CancellationToken, Task<Stream>> openAt, RepositoryName? mountFrom, IProgress<long>? progress, CancellationToken ct)
    {
        var what = $"upload {repository}@{blob.Digest}";
        using var lease = await _transport.AcquireAsync(repository, ct);
        if (await HeadBlobUnlimitedAsync(repository, blob.Digest, ct) is not null) return BlobUploadResult.Existed;

        string[] scopes = mountFrom is not null && mountFrom.Registry == repository.Registry && mountFrom != repository
            ? [Scope(repository, Pull, Push), Scope(mountFrom, Pull)]
            : [Scope(repository, Pull, Push)];
        for (int attempt = 0; ; attempt++)
        {
            var query = scopes.Length > 1 ? $"?mount={blob.Digest}&from={Uri.EscapeDataString(mountFrom!.Repository)}" : "";
            Uri location;
            using (var start = await SendAsync(repository, scopes,
                       () => Request(HttpMethod.Post, repository, $"v2/{repository.Repository}/blobs/uploads/{query}"), what, ct))
            {
                if (start.StatusCode == HttpStatusCode.Created && scopes.Length > 1) return BlobUploadResult.Mounted;
                if (start.StatusCode != HttpStatusCode.Accepted) throw await ErrorAsync(start, what);
                location = Location(repository, start);
            }
            try
            {
                if (blob.Size <= _transport.Options.MonolithicUploadLimit)
                    await PutWholeAsync(repository, scopes, location, blob, openAt, progress, what, ct);
                else
                    await PutChunkedAsync(repository, scopes, location, blob, openAt, progress, what, ct);
                return BlobUploadResult.Uploaded;
            }
            catch (RegistryException e) when (IsUploadRestartable(e) && attempt < _transport.Options.MaxRetries)
            {
                // The upload session is broken or lost: start a new one.
                await Task.Delay(Backoff(attempt), ct);
            }
        }
    }

    /// <summary>
    /// Failures after which a fresh upload session can succeed. Distribution signs the offset into the upload URL's
    /// <c>_state</c>: once it took data the client never heard about, that URL is refused (BLOB_UPLOAD_INVALID).
    /// </summary>
    private static bool IsUploadRestartable(RegistryException e) =>
        e.Code is "BLOB_UPLOAD_INVALID" or "BLOB_UPLOAD_UNKNOWN"
        || e.Status is HttpStatusCode.RequestedRangeNotSatisfiable
        || (e.Status is { } status && RegistryTransport.IsTransientStatus(status));

    private async Task PutWholeAsync(RepositoryName repository, string[] scopes, Uri location, Descriptor blob,
        Func<long, CancellationToken, Task<Stream>> openAt, IProgress<long>? progress, string what, CancellationToken ct)
    {
        using var response = await SendAsync(repository, scopes, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob.Digest));
            request.Content = new ReopeningContent(openAt, 0, blob.Size, progress);
            return request;
        }, what, ct);
        if (response.StatusCode != HttpStatusCode.Created) throw await ErrorAsync(response, what);
    }

    private async Task PutChunkedAsync(RepositoryName repository, string[] scopes, Uri location, Descriptor blob,
        Func<long, CancellationToken, Task<Stream>> openAt, IProgress<long>? progress, string what, CancellationToken ct)
    {
        long offset = 0;
        int failures = 0;
        while (offset < blob.Size)
        {
            var length = Math.Min(_transport.Options.ChunkSize, blob.Size - offset);
            var (start, target) = (offset, location);
            HttpResponseMessage? response = null;
            try
            {
                response = await SendAsync(repository, scopes, () =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Patch, target);
                    request.Content = new ReopeningContent(openAt, start, length, progress);
                    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + length - 1}");
                    return request;
                }, what, ct);
                if (response.StatusCode != HttpStatusCode.Accepted) throw await ErrorAsync(response, what);
                location = Location(repository, response);
                offset = RangeEnd(response) ?? start + length;
            }
            catch (RegistryException e) when (failures++ < _transport.Options.MaxRetries && IsUploadRestartable(e))
            {
                // Ask the upload where it stands and go on from there; if the session is lost, this throws and the
                // caller starts a new one.
                (location, offset) = await UploadStatusAsync(repository, scopes, location, what, ct);
                await Task.Delay(Backoff(failures), ct);
            }
            finally
            {
                response?.Dispose();
            }
        }
        using var done = await SendAsync(repository, scopes, () => new HttpRequestMessage(HttpMethod.Put, WithDigest(location, blob.Digest)), what, ct);
        if (done.StatusCode != HttpStatusCode.Created) throw await ErrorAsync(done, what);
    }

    private async Task<(Uri Location, long Offset)> UploadStatusAsync(RepositoryName repository, string[] scopes, Uri location, string what, CancellationToken ct)
    {
        using var response = await SendAsync(repository, scopes, () => new HttpRequestMessage(HttpMethod.Get, location), what, ct);
        if (response.StatusCode != HttpStatusCode.NoContent) throw await ErrorAsync(response, what);
        return (Location(repository, response), RangeEnd(response) ?? 0);
    }

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
        var location = response.Headers.Location ?? throw new RegistryException($"{repository}: the registry sent no upload location", null, response.StatusCode);
        return location.IsAbsoluteUri ? location : new Uri(_transport.BaseUri(repository), location);
    }

    private static Uri WithDigest(Uri location, string digest) =>
        new(location + (string.IsNullOrEmpty(location.Query) ? "?" : "&") + "digest=" + Uri.EscapeDataString(digest));

    private TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(_transport.Options.RetryMaxDelay.TotalMilliseconds,
            _transport.Options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt) * (0.5 + Random.Shared.NextDouble())));

    private static string Scope(RepositoryName repository, params string[] actions) => RegistryAuthenticator.Scope(repository, actions);

    private Task<HttpResponseMessage> SendAsync(RepositoryName repository, IReadOnlyList<string> scopes, Func<HttpRequestMessage> createRequest,
        string what, CancellationToken ct, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead) =>
        _transport.SendAsync(repository, scopes, createRequest, completion, what, ct);

    private HttpRequestMessage Request(HttpMethod method, RepositoryName repository, string path) =>
        new(method, new Uri(_transport.BaseUri(repository), path));

    private HttpRequestMessage ManifestRequest(HttpMethod method, ImageReference reference)
    {
        var request = Request(method, reference.Repository, $"v2/{reference.Repository.Repository}/manifests/{reference.Identifier}");
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

    /// <summary>The registry's error, as a message naming what was asked: <c>ref: manifest unknown (MANIFEST_UNKNOWN)</c>.</summary>
    private static async Task<RegistryException> ErrorAsync(HttpResponseMessage response, string what)
    {
        string? code = null, message = null;
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync();
            if (body.Length > 0 && JsonSerializer.Deserialize(body, RegistryJson.Default.RegistryErrors)?.Errors is [var first, ..])
                (code, message) = (first.Code, first.Message);
        }
        catch (JsonException)
        {
        }
        code ??= response.StatusCode switch
        {
            HttpStatusCode.NotFound => "NOT_FOUND",
            HttpStatusCode.Unauthorized => "UNAUTHORIZED",
            HttpStatusCode.Forbidden => "DENIED",
            HttpStatusCode.TooManyRequests => "TOOMANYREQUESTS",
            _ => null,
        };
        var text = message ?? response.ReasonPhrase ?? response.StatusCode.ToString();
        return new RegistryException($"{what}: {text} ({code ?? ((int)response.StatusCode).ToString()})", code, response.StatusCode);
    }
}
