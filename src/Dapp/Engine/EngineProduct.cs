using System.Net.Http.Headers;
using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// Which engine answers the Docker Engine API. Podman's API service (<c>podman system service</c>) names itself in
/// every answer's headers (<c>Libpod-Api-Version</c>, the ping's included) and in <c>/version</c>'s components
/// ("Podman Engine"); <see cref="DockerEngine"/> then takes the calls its Docker-compatible API gets wrong through
/// Podman's own (docs/compatibility.md "Podman"). The ping is what dapp asks: Podman's <c>/version</c> asks the
/// package manager for its components' packages, 1 to 3 s per call (Podman 4.3, Debian 12).
/// </summary>
internal static class EngineProduct
{
    /// <summary>The Podman version the engine reports; null for any other engine.</summary>
    public static string? PodmanVersion(VersionResponse version) =>
        version.Components?.FirstOrDefault(c => c.Name?.Contains("Podman", StringComparison.OrdinalIgnoreCase) == true) is { } podman
            ? podman.Version ?? "" : null;

    /// <summary>The libpod API version an answer's headers carry (Podman's service); null for any other engine.</summary>
    public static string? PodmanVersion(HttpResponseHeaders headers) => Header(headers, "Libpod-Api-Version") is { } version ? version : null;

    /// <summary>The Docker Engine API version an answer's headers carry; null when the server is not an engine.</summary>
    public static string? ApiVersion(HttpResponseHeaders headers) => Header(headers, "Api-Version");

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) && values.FirstOrDefault() is { Length: > 0 } value ? value : null;
}
