using Dapp.Engine;
using Dapp.Tests.Integration;

namespace Dapp.Tests.Unit;

/// <summary>
/// Reads of images on Podman while another client tags or removes one: Podman 4.3 finds the name, then not the image,
/// and answers 500 (a build on Podman failed so while other jobs shared the engine).
/// </summary>
public class PodmanImageRaceTests
{
    private const string Race = """{"cause":"image not known","message":"failed to convert ImageData to ImageInspect 'dimgstage-p:1': reading image \"2774\": locating image with ID \"2774\": image not known","response":500}""";

    private static FakeServer Engine(string[] headers, Func<int, (int, string)> inspect)
    {
        var inspections = 0;
        return FakeServer.Json(line => line switch
        {
            _ when line.Contains("/_ping ") => (200, "OK"),
            _ when line.Contains("/images/dimgstage-p:1/json") => inspect(Interlocked.Increment(ref inspections)),
            _ => (404, """{"message":"unexpected"}"""),
        }, headers);
    }

    [Fact]
    public async Task An_image_Podman_loses_sight_of_for_a_moment_is_read_again()
    {
        await using var podman = Engine(EngineHeaders.Podman, n => n <= 2 ? (500, Race) : (200, """{"Id":"sha256:2774","RepoTags":["dimgstage-p:1"]}"""));
        using var engine = DockerEngine.Connect($"tcp://{podman.Host}", _ => null);

        Assert.Equal("sha256:2774", (await engine.InspectImageAsync("dimgstage-p:1", CancellationToken.None))?.ID);
        Assert.Equal(3, podman.Requests.Count(r => r.Contains("/images/dimgstage-p:1/json")));
    }

    [Fact]
    public async Task An_image_removed_meanwhile_is_not_found_and_a_lasting_failure_is_an_error()
    {
        await using (var podman = Engine(EngineHeaders.Podman, n => n == 1 ? (500, Race) : (404, """{"message":"no such image"}""")))
        {
            using var engine = DockerEngine.Connect($"tcp://{podman.Host}", _ => null);
            Assert.Null(await engine.InspectImageAsync("dimgstage-p:1", CancellationToken.None));
        }
        await using (var podman = Engine(EngineHeaders.Podman, _ => (500, Race)))
        {
            using var engine = DockerEngine.Connect($"tcp://{podman.Host}", _ => null);
            var e = await Assert.ThrowsAsync<DappException>(() => engine.InspectImageAsync("dimgstage-p:1", CancellationToken.None));
            Assert.Contains("image not known", e.Message);
            Assert.Equal(5, podman.Requests.Count(r => r.Contains("/images/dimgstage-p:1/json")));
        }
    }

    [Fact]
    public async Task On_Docker_the_same_answer_fails_at_once()
    {
        await using var docker = Engine(EngineHeaders.Docker, _ => (500, Race));
        using var engine = DockerEngine.Connect($"tcp://{docker.Host}", _ => null);

        await Assert.ThrowsAsync<DappException>(() => engine.InspectImageAsync("dimgstage-p:1", CancellationToken.None));
        Assert.Equal(1, docker.Requests.Count(r => r.Contains("/images/dimgstage-p:1/json")));
    }
}
