using Dapp.Engine;
using Dapp.Tests.Integration;
using Docker.DotNet.Models;

namespace Dapp.Tests.Unit;

public class EngineProductTests
{
    [Fact]
    public void Podman_is_told_from_its_version_components_and_Docker_is_not()
    {
        var podman = new VersionResponse
        {
            APIVersion = "1.41",
            Components = [new ComponentVersion { Name = "Podman Engine", Version = "4.3.1" }, new ComponentVersion { Name = "Conmon", Version = "2.1.6" }],
        };
        var docker = new VersionResponse
        {
            APIVersion = "1.43",
            Components = [new ComponentVersion { Name = "Engine", Version = "20.10.24+dfsg1" }, new ComponentVersion { Name = "containerd", Version = "1.6.20" }],
        };
        Assert.Equal("4.3.1", EngineProduct.PodmanVersion(podman));
        Assert.Null(EngineProduct.PodmanVersion(docker));
        Assert.Null(EngineProduct.PodmanVersion(new VersionResponse { APIVersion = "1.43" }));
    }

    /// <summary>A loopback engine that answers the ping with <paramref name="headers"/> and /version with an error (Podman's is slow: dapp must not ask it).</summary>
    private static FakeServer Engine(int pingStatus, params string[] headers) => FakeServer.Json(line => line switch
    {
        _ when line.Contains("/_ping ") => (pingStatus, "OK"),
        _ => (500, """{"message":"not asked"}"""),
    }, headers);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_engine_is_told_by_one_ping_whatever_asks_first(bool pingFirst)
    {
        await using var podman = Engine(200, EngineHeaders.Podman);
        await using var docker = Engine(200, EngineHeaders.Docker);
        using var onPodman = DockerEngine.Connect($"tcp://{podman.Host}", _ => null);
        using var onDocker = DockerEngine.Connect($"tcp://{docker.Host}", _ => null);

        foreach (var engine in new[] { onPodman, onDocker })
        {
            if (pingFirst) await engine.PingAsync(CancellationToken.None);
            // Only Docker skips the layers it has on a load: the question is the engine's kind.
            var skips = await engine.LoadSkipsLayersItHasAsync(CancellationToken.None);
            await engine.PingAsync(CancellationToken.None);
            Assert.Equal(engine == onDocker, skips);
        }
        Assert.StartsWith("podman --remote", onPodman.CliCommandLine(["ps"]));
        Assert.Contains("docker ps", onDocker.CliCommandLine(["ps"]));
        foreach (var server in new[] { podman, docker })
        {
            Assert.Single(server.Requests, r => r.Contains("/_ping "));
            Assert.DoesNotContain(server.Requests, r => r.Contains("/version "));
        }
    }

    [Fact]
    public async Task A_server_that_is_not_an_engine_is_told_so()
    {
        await using var web = Engine(200, "Server: nginx");
        using (var engine = DockerEngine.Connect($"tcp://{web.Host}", _ => null))
            Assert.Contains("does not answer as a Docker engine does (no API version)",
                (await Assert.ThrowsAsync<DappException>(() => engine.PingAsync(CancellationToken.None))).Message);
        await using var missing = Engine(404);
        using (var engine = DockerEngine.Connect($"tcp://{missing.Host}", _ => null))
            Assert.Contains("does not answer as a Docker engine does (GET /_ping: not found)",
                (await Assert.ThrowsAsync<DappException>(() => engine.PingAsync(CancellationToken.None))).Message);
    }
}
