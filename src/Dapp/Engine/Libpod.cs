using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dapp.Engine;

/// <summary>
/// Podman's own API (libpod), for the calls its Docker-compatible API gets wrong (docs/compatibility.md "Podman"):
/// creating a container without Podman's default environment, and committing one with the config dapp asks for.
/// Docker.DotNet has no libpod endpoints; these are two plain HTTP requests on the engine's socket.
/// </summary>
internal sealed class Libpod : IDisposable
{
    /// <summary>The libpod API version Podman 4 answers; the service accepts any 4.x path.</summary>
    private const string Version = "v4.0.0";

    private readonly HttpClient _http;
    private readonly string _shown;

    private Libpod(HttpClient http, string shown)
    {
        _http = http;
        _shown = shown;
    }

    /// <summary>A client of the libpod API at the engine's endpoint: a unix socket, or plain HTTP (Podman's service has no TLS).</summary>
    public static Libpod For(Uri endpoint, string shown, bool tls)
    {
        if (tls) throw new DappException($"The engine at {shown} is Podman, reached over TLS: dapp talks to Podman only on its unix socket or plain tcp:// (docs/compatibility.md)");
        return new Libpod(EngineHttp.Client(endpoint), shown);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Creates a container from a libpod spec (<see cref="PodmanSpecs"/>); its ID.</summary>
    public async Task<string> CreateContainerAsync(JsonObject spec, string what)
    {
        using var content = new StringContent(spec.ToJsonString(), Encoding.UTF8, "application/json");
        var answer = await SendAsync(HttpMethod.Post, $"{Version}/libpod/containers/create", content, what, CancellationToken.None);
        return IdOf(answer, what);
    }

    /// <summary>Commits a container as <paramref name="repository"/>:<paramref name="tag"/> in Docker's image format, with Dockerfile-style changes; the image's ID.</summary>
    public async Task<string> CommitAsync(string container, string repository, string tag, IReadOnlyList<string> changes, string what, CancellationToken ct)
    {
        var query = new StringBuilder($"{Version}/libpod/commit?container={Uri.EscapeDataString(container)}&repo={Uri.EscapeDataString(repository)}"
                                      + $"&tag={Uri.EscapeDataString(tag)}&format=docker&pause=false");
        foreach (var change in changes) query.Append("&changes=").Append(Uri.EscapeDataString(change));
        var answer = await SendAsync(HttpMethod.Post, query.ToString(), null, what, ct);
        return IdOf(answer, what);
    }

    /// <summary>
    /// Fills a container's new volumes with the image's files there, as Docker does at create: Podman copies them when it
    /// first mounts the volume, which initialising the container does. A container made only to hold volumes has a
    /// command that does not exist (it is never started): the runtime then refuses to initialise it, after the copy
    /// (measured with 4.3.1), and that refusal is what is expected here.
    /// </summary>
    public async Task FillVolumesAsync(string container, string what, CancellationToken ct)
    {
        try
        {
            await SendAsync(HttpMethod.Post, $"{Version}/libpod/containers/{Uri.EscapeDataString(container)}/init", null, what, ct);
        }
        catch (DappException e) when (e is not EngineNotFoundException && e.Message.Contains("command that was not found", StringComparison.Ordinal))
        {
        }
    }

    /// <summary>
    /// Makes an image of one layer from a file system tar (docker import) named <paramref name="reference"/>: the compat
    /// API's import leaves the image without the name asked for (measured with 4.3.1).
    /// </summary>
    public async Task ImportAsync(Stream tar, string reference, IList<string> changes, string what, CancellationToken ct)
    {
        var query = new StringBuilder($"{Version}/libpod/images/import?reference={Uri.EscapeDataString(reference)}");
        foreach (var change in changes) query.Append("&changes=").Append(Uri.EscapeDataString(change));
        using var content = new StreamContent(tar);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-tar");
        IdOf(await SendAsync(HttpMethod.Post, query.ToString(), content, what, ct), what);
    }

    /// <summary>
    /// Waits for a started container to have exited; its exit code. The compat API's wait looks at the container's
    /// state in a loop without pause (1 ns) for each waiter; this one looks every 250 ms.
    /// </summary>
    public async Task<long> WaitAsync(string container, string what, CancellationToken ct)
    {
        var answer = await SendAsync(HttpMethod.Post,
            $"{Version}/libpod/containers/{Uri.EscapeDataString(container)}/wait?condition=stopped&condition=exited&interval=250ms", null, what, ct);
        return long.TryParse(answer.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code)
            ? code
            : throw new DappException($"{what}: Podman answered {answer.Trim()}, not an exit code");
    }

    /// <summary>
    /// Removes a container and its anonymous volumes, running or not, at once: the compat API's forced removal stops a
    /// running container with SIGTERM and waits its stop timeout (10 s) before it kills, where Docker kills at once.
    /// </summary>
    public Task RemoveContainerAsync(string container, string what, CancellationToken ct) =>
        SendAsync(HttpMethod.Delete, $"{Version}/libpod/containers/{Uri.EscapeDataString(container)}?force=true&v=true&timeout=0", null, what, ct);

    private async Task<string> SendAsync(HttpMethod method, string path, HttpContent? content, string what, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new DappException($"Cannot talk to the Podman engine at {_shown} ({what}): {e.GetBaseException().Message}", e);
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode) return body;
            var message = MessageOf(body) ?? response.StatusCode.ToString();
            if (message.Contains("runroot must be set", StringComparison.Ordinal)) message += RunRootHint;
            throw response.StatusCode switch
            {
                HttpStatusCode.NotFound => new EngineNotFoundException($"{what}: {message}"),
                HttpStatusCode.Conflict => new EngineConflictException($"{what}: {message}"),
                _ => new DappException($"{what}: {message}"),
            };
        }
    }

    /// <summary>
    /// Rootless Podman 4.3's service that made its user namespace itself fails every commit so when the user's
    /// storage.conf has a [storage] table without runroot and graphroot (the command line does not).
    /// </summary>
    private const string RunRootHint =
        " (Podman's storage.conf for the service's user names no runroot: add runroot and graphroot to its [storage] table, then restart the service; docs/ci.md has an example)";

    private static string? MessageOf(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("message", out var message) ? message.GetString() : null;
        }
        catch (JsonException)
        {
            return string.IsNullOrWhiteSpace(body) ? null : body.Trim();
        }
    }

    private string IdOf(string answer, string what)
    {
        try
        {
            using var json = JsonDocument.Parse(answer);
            if (json.RootElement.TryGetProperty("Id", out var id) && id.GetString() is { Length: > 0 } value) return value;
        }
        catch (JsonException)
        {
        }
        throw new DappException($"{what}: the Podman engine at {_shown} answered without an ID");
    }
}
