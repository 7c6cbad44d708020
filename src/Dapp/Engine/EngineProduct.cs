using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// Which engine answers the Docker Engine API. Podman's API service (<c>podman system service</c>) names itself in
/// <c>/version</c>'s components ("Podman Engine"); it accepts dapp's calls but commits stage images without their
/// labels and docker instructions and with its own ENV (docs/compatibility.md): such images would pass for stages with
/// exit 0, so until it is supported a command that builds or moves stages refuses it.
/// </summary>
internal static class EngineProduct
{
    /// <summary>The Podman version the engine reports; null for any other engine.</summary>
    public static string? PodmanVersion(VersionResponse version) =>
        version.Components?.FirstOrDefault(c => c.Name?.Contains("Podman", StringComparison.OrdinalIgnoreCase) == true) is { } podman
            ? podman.Version ?? "" : null;

    /// <summary>Why dapp cannot work with this engine; null when it can.</summary>
    public static string? Refusal(VersionResponse version, string shown) => PodmanVersion(version) is { } podman
        ? $"The engine at {shown} is Podman ({podman}), which dapp does not support yet: its Docker-compatible API accepts "
          + "dapp's calls but commits images without dapp's labels and docker instructions, so the stages would be wrong. "
          + "Use a Docker engine (dockerd); see docs/compatibility.md"
        : null;
}
