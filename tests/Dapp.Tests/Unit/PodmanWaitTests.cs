using Dapp.Engine;
using Dapp.Tests.Integration;

namespace Dapp.Tests.Unit;

/// <summary>
/// A wait for a build container on Podman, against a loopback server answering as Podman 4.3.1 does but for its wait,
/// which it leaves unanswered (as it did for three builds under load, until they were killed).
/// </summary>
public class PodmanWaitTests
{
    private static string Inspect(string status, bool running, int exitCode) =>
        $$$"""{"Id":"c1","State":{"Status":"{{{status}}}","Running":{{{(running ? "true" : "false")}}},"ExitCode":{{{exitCode}}}}}""";

    [Fact]
    public async Task An_exit_the_wait_does_not_tell_is_seen_in_the_container_state()
    {
        var looks = 0;
        await using var podman = FakeServer.Json(line => line switch
        {
            _ when line.Contains("/_ping ") => (200, "OK"),
            _ when line.Contains("/libpod/containers/c1/wait?condition=stopped&condition=exited") => null,
            // Running at the first look, exited with code 7 from the second on.
            _ when line.Contains("/containers/c1/json") => (200, Interlocked.Increment(ref looks) == 1 ? Inspect("running", true, 0) : Inspect("exited", false, 7)),
            _ => (404, """{"message":"unexpected"}"""),
        }, EngineHeaders.Podman);
        using var engine = DockerEngine.Connect($"tcp://{podman.Host}", _ => null);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        Assert.Equal(7, await engine.WaitContainerAsync("c1", limit.Token));
        Assert.Equal(2, looks);
    }

    [Fact]
    public async Task The_wait_answer_is_the_exit_code_when_it_comes()
    {
        await using var podman = FakeServer.Json(line => line switch
        {
            _ when line.Contains("/_ping ") => (200, "OK"),
            _ when line.Contains("/libpod/containers/c1/wait?") => (200, "3\n"),
            _ => (404, """{"message":"unexpected"}"""),
        }, EngineHeaders.Podman);
        using var engine = DockerEngine.Connect($"tcp://{podman.Host}", _ => null);

        Assert.Equal(3, await engine.WaitContainerAsync("c1", CancellationToken.None));
        Assert.DoesNotContain(podman.Requests, r => r.Contains("/json"));
    }
}
