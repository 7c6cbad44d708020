namespace Dapp.Tests.Unit;

/// <summary>
/// The headers of the engines dapp tells apart, as every answer carries them (the ping's included), for loopback
/// servers that stand in for them (measured: Docker 20.10, Podman 4.3.1).
/// </summary>
internal static class EngineHeaders
{
    public static readonly string[] Podman = ["Api-Version: 1.41", "Libpod-Api-Version: 4.3.1", "Server: Libpod/4.3.1 (linux)"];

    public static readonly string[] Docker = ["Api-Version: 1.41", "Ostype: linux", "Server: Docker/20.10.24+dfsg1 (linux)"];
}
