using Dapp.Engine;
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
}
