using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Dapp.Tests.Unit.Simulation;

/// <summary>
/// A registry in memory, answering the v2 API as the reference registry does for what dapp's clients send
/// (manifests by tag and digest, blobs, uploads, deletes; 404 with MANIFEST_UNKNOWN / BLOB_UNKNOWN, 400
/// MANIFEST_BLOB_UNKNOWN for a manifest whose blobs are missing). Answers come at once (an HTTP call that really
/// waited would resume off the simulation's thread, inside HttpClient), but a manifest write or delete lands a
/// seeded moment later: until then every reader, the writer included, sees the registry as before, which is the
/// window in which two hosts' claims race. Its stage tags are read and written directly by the simulated hosts'
/// stages storage (<see cref="SimulatedHost"/>), each access awaiting a seeded latency.
/// </summary>
public sealed class SimulatedRegistry(SimulatedTime time, int seed)
{
    private readonly Random _random = new(seed);
    private readonly Dictionary<string, byte[]> _blobs = new();
    private readonly Dictionary<string, (byte[] Content, string MediaType)> _manifests = new();
    private readonly Dictionary<string, string> _tags = new();
    private readonly Dictionary<string, MemoryStream> _uploads = new();
    private readonly List<(TimeSpan Due, long Order, Action Apply)> _landing = [];
    private long _writes;

    public const string Host = "registry.sim";
    public const string Repository = "project/stages";

    /// <summary>Requests take from 2 ms to this long (at random, seeded).</summary>
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(40);

    /// <summary>Claim writes answered 403 DENIED (a registry whose policy refuses them).</summary>
    public bool RefusesClaims { get; set; }

    /// <summary>The stages published: signature → image.</summary>
    public Dictionary<string, SimImage> Stages { get; } = new();

    /// <summary>Tags written (claims included), for the tests' accounting.</summary>
    public int ManifestWrites { get; private set; }

    private TimeSpan Now => time.Elapsed;

    /// <summary>When set, told of each HTTP request (simulated milliseconds, method, path, status).</summary>
    public Action<string>? Trace { get; set; }

    public Task DelayAsync(CancellationToken ct) =>
        Task.Delay(TimeSpan.FromMilliseconds(2 + _random.NextDouble() * (MaxLatency.TotalMilliseconds - 2)), time.Clock, ct);

    /// <summary>What reaches this registry from a host.</summary>
    public HttpMessageHandler Network() => new Handler(this);

    private sealed class Handler(SimulatedRegistry registry) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var body = request.Content is null ? [] : request.Content.ReadAsByteArrayAsync(ct).GetAwaiter().GetResult();
            registry.Land();
            var response = registry.Answer(request.Method, request.RequestUri!, request.Content?.Headers.ContentType?.MediaType, body);
            registry.Trace?.Invoke($"{registry.Now.TotalMilliseconds:0} {request.Method} {request.RequestUri!.PathAndQuery} {(int)response.StatusCode}");
            response.RequestMessage = request;
            return Task.FromResult(response);
        }
    }

    /// <summary>Applies the writes whose moment has come, in the order they land.</summary>
    private void Land()
    {
        foreach (var write in _landing.Where(w => w.Due <= Now).OrderBy(w => w.Due).ThenBy(w => w.Order).ToList())
        {
            _landing.Remove(write);
            write.Apply();
        }
    }

    private void Later(Action apply) =>
        _landing.Add((Now + TimeSpan.FromMilliseconds(2 + _random.NextDouble() * (MaxLatency.TotalMilliseconds - 2)), ++_writes, apply));

    private HttpResponseMessage Answer(HttpMethod method, Uri uri, string? contentType, byte[] body)
    {
        var path = uri.AbsolutePath;
        if (path == "/v2/") return Ok([], "application/json", ("Docker-Distribution-API-Version", "registry/2.0"));
        var prefix = $"/v2/{Repository}/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal)) return Error(HttpStatusCode.NotFound, "NAME_UNKNOWN");
        var rest = path[prefix.Length..];
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        if (rest.StartsWith("manifests/", StringComparison.Ordinal)) return Manifest(method, Uri.UnescapeDataString(rest["manifests/".Length..]), contentType, body);
        if (rest.StartsWith("blobs/uploads/", StringComparison.Ordinal)) return Upload(method, rest["blobs/uploads/".Length..], query["digest"], query["mount"], body);
        if (rest.StartsWith("blobs/", StringComparison.Ordinal))
        {
            var digest = rest["blobs/".Length..];
            if (!_blobs.TryGetValue(digest, out var blob)) return Error(HttpStatusCode.NotFound, "BLOB_UNKNOWN");
            var answer = Ok(method == HttpMethod.Head ? [] : blob, "application/octet-stream", ("Docker-Content-Digest", digest));
            answer.Content.Headers.ContentLength = blob.Length;
            return answer;
        }
        if (rest == "tags/list")
            return Ok(JsonSerializer.SerializeToUtf8Bytes(new { name = Repository, tags = _tags.Keys.Order().ToArray() }), "application/json");
        return Error(HttpStatusCode.NotFound, "UNSUPPORTED");
    }

    private HttpResponseMessage Manifest(HttpMethod method, string reference, string? contentType, byte[] body)
    {
        var digest = reference.StartsWith("sha256:", StringComparison.Ordinal) ? reference : _tags.GetValueOrDefault(reference);
        if (method == HttpMethod.Put)
        {
            if (RefusesClaims && reference.StartsWith(Dapp.Storage.StageClaims.TagPrefix, StringComparison.Ordinal)) return Error(HttpStatusCode.Forbidden, "DENIED");
            using (var json = JsonDocument.Parse(body))
            {
                var referenced = json.RootElement.GetProperty("config").GetProperty("digest").GetString()!;
                if (!_blobs.ContainsKey(referenced)) return Error(HttpStatusCode.BadRequest, "MANIFEST_BLOB_UNKNOWN");
            }
            var written = Digest(body);
            Later(() =>
            {
                _manifests[written] = (body, contentType ?? "application/vnd.oci.image.manifest.v1+json");
                if (!reference.StartsWith("sha256:", StringComparison.Ordinal)) _tags[reference] = written;
            });
            ManifestWrites++;
            var created = new HttpResponseMessage(HttpStatusCode.Created);
            created.Headers.Add("Docker-Content-Digest", written);
            return created;
        }
        if (digest is null || !_manifests.TryGetValue(digest, out var manifest)) return Error(HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        if (method == HttpMethod.Delete)
        {
            if (!reference.StartsWith("sha256:", StringComparison.Ordinal)) return Error(HttpStatusCode.BadRequest, "UNSUPPORTED");
            Later(() =>
            {
                _manifests.Remove(digest);
                foreach (var tag in _tags.Where(t => t.Value == digest).Select(t => t.Key).ToList()) _tags.Remove(tag);
            });
            return new HttpResponseMessage(HttpStatusCode.Accepted);
        }
        return Ok(method == HttpMethod.Head ? [] : manifest.Content, manifest.MediaType, ("Docker-Content-Digest", digest));
    }

    private HttpResponseMessage Upload(HttpMethod method, string session, string? digest, string? mount, byte[] body)
    {
        if (method == HttpMethod.Post)
        {
            if (mount is not null && _blobs.ContainsKey(mount)) return new HttpResponseMessage(HttpStatusCode.Created);
            var id = Guid.NewGuid().ToString("N");
            _uploads[id] = new MemoryStream();
            return Accepted(id, 0);
        }
        if (!_uploads.TryGetValue(session, out var upload)) return Error(HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
        upload.Write(body);
        if (method == HttpMethod.Patch) return Accepted(session, upload.Length);
        var content = upload.ToArray();
        if (digest != Digest(content)) return Error(HttpStatusCode.BadRequest, "DIGEST_INVALID");
        _uploads.Remove(session);
        _blobs[digest] = content;
        var created = new HttpResponseMessage(HttpStatusCode.Created);
        created.Headers.Add("Docker-Content-Digest", digest);
        created.Headers.Location = new Uri($"/v2/{Repository}/blobs/{digest}", UriKind.Relative);
        return created;
    }

    private static HttpResponseMessage Accepted(string session, long length)
    {
        var accepted = new HttpResponseMessage(HttpStatusCode.Accepted);
        accepted.Headers.Location = new Uri($"/v2/{Repository}/blobs/uploads/{session}", UriKind.Relative);
        accepted.Headers.Add("Range", $"0-{Math.Max(0, length - 1)}");
        return accepted;
    }

    private static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    private static HttpResponseMessage Ok(byte[] body, string mediaType, params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(body) };
        response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(mediaType);
        foreach (var (name, value) in headers) response.Headers.TryAddWithoutValidation(name, value);
        return response;
    }

    private static HttpResponseMessage Error(HttpStatusCode status, string code) => new(status)
    {
        Content = new StringContent($$"""{"errors":[{"code":"{{code}}","message":"{{code.ToLowerInvariant().Replace('_', ' ')}}"}]}""", Encoding.UTF8, "application/json"),
    };
}

/// <summary>An image as the simulation knows it: its ID and its layers (by diff ID), the parent's first.</summary>
public sealed record SimImage(string Id, IReadOnlyList<string> Layers)
{
    public bool IsBuiltOn(SimImage parent) => Layers.Count > parent.Layers.Count && Layers.Take(parent.Layers.Count).SequenceEqual(parent.Layers);
}
