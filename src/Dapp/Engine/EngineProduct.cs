using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// Which engine answers the Docker Engine API. Podman's API service (<c>podman system service</c>) names itself in
/// <c>/version</c>'s components ("Podman Engine"); <see cref="DockerEngine"/> then takes the calls its
/// Docker-compatible API gets wrong through Podman's own (docs/compatibility.md "Podman").
/// </summary>
internal static class EngineProduct
{
    /// <summary>The Podman version the engine reports; null for any other engine.</summary>
    public static string? PodmanVersion(VersionResponse version) =>
        version.Components?.FirstOrDefault(c => c.Name?.Contains("Podman", StringComparison.OrdinalIgnoreCase) == true) is { } podman
            ? podman.Version ?? "" : null;
}
