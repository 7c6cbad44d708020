using Dapp.Engine;
using Dapp.Tests.Integration;

namespace Dapp.Tests.Unit;

/// <summary>
/// Following a container's output when the engine keeps the stream open and sends nothing more: a cancelled follow
/// ends at once, and on Podman the follow ends a few seconds after the container's exit, whatever the stream does.
/// </summary>
public class LogFollowTests
{
    private static string Json(string body, params string[] headers) =>
        $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n{string.Concat(headers.Select(h => h + "\r\n"))}Connection: close\r\n\r\n{body}";

    /// <summary>A multiplexed frame of stdout carrying <paramref name="text"/>.</summary>
    private static string Frame(string text) => "\u0001\0\0\0\0\0\0" + (char)text.Length + text;

    private static string Chunk(string data) => $"{data.Length:x}\r\n{data}\r\n";

    /// <param name="followAnswers">False: the follow request gets no answer at all, not even its headers (Podman 4.3 sends
    /// them with the first line of output).</param>
    private static FakeServer Engine(string[] headers, string waitAnswer, bool followAnswers = true) => FakeServer.HeadThenSilence(line => line switch
    {
        _ when line.Contains("/_ping ") => Json("OK", headers),
        // The output: one line, then the stream stays open and silent (chunked, never ended).
        // Read again without follow: the whole output, ended.
        _ when line.Contains("/containers/c1/logs?") && !Follows(line) =>
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + Chunk(Frame("hello\n")) + Chunk(Frame("bye\n")) + "0\r\n\r\n",
        _ when line.Contains("/containers/c1/logs?") && !followAnswers => null,
        _ when line.Contains("/containers/c1/logs?") => "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + Chunk(Frame("hello\n")),
        _ when line.Contains("/libpod/containers/c1/wait?") => Json(waitAnswer),
        _ when line.Contains("/containers/c1/json") => Json("""{"Id":"c1","Config":{"Tty":false},"State":{"Status":"running","Running":true,"ExitCode":0}}"""),
        _ => null,
    });

    private static bool Follows(string requestLine) => requestLine.Contains("follow=1") || requestLine.Contains("follow=true", StringComparison.OrdinalIgnoreCase);

    [Fact]
    public async Task On_podman_a_follow_the_engine_keeps_open_ends_after_the_exit_with_the_whole_output()
    {
        await using var podman = Engine(EngineHeaders.Podman, "0");
        using var engine = DockerEngine.Connect($"tcp://{podman.Host}", _ => null);
        var lines = new List<string>();

        var exit = engine.WaitContainerAsync("c1", CancellationToken.None);
        var follow = engine.FollowLogsAsync("c1", exit, lines.Add, CancellationToken.None);

        var ended = await Task.WhenAny(follow, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(follow == ended, "the follow did not end; requests: " + string.Join(" | ", podman.Requests.Select(r => r[..r.IndexOf('\r')])));
        await follow;
        Assert.Equal(["hello", "bye"], lines);
        Assert.Contains(podman.Requests, r => r.Contains("/logs?") && !Follows(r[..r.IndexOf('\r')]));
        // The follow ends by the caller's wait: one wait per container, not one more of its own.
        Assert.Single(podman.Requests, r => r.Contains("/libpod/containers/c1/wait?"));
    }

    [Fact]
    public async Task On_podman_a_follow_the_engine_never_answers_ends_after_the_exit_with_the_whole_output()
    {
        await using var podman = Engine(EngineHeaders.Podman, "0", followAnswers: false);
        using var engine = DockerEngine.Connect($"tcp://{podman.Host}", _ => null);
        var lines = new List<string>();

        var follow = engine.FollowLogsAsync("c1", engine.WaitContainerAsync("c1", CancellationToken.None), lines.Add, CancellationToken.None);

        var ended = await Task.WhenAny(follow, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(follow == ended, "the follow did not end; requests: " + string.Join(" | ", podman.Requests.Select(r => r[..r.IndexOf('\r')])));
        await follow;
        Assert.Equal(["hello", "bye"], lines);
    }

    [Fact]
    public async Task A_cancelled_follow_of_a_silent_stream_ends_at_once()
    {
        await using var docker = Engine(EngineHeaders.Docker, "0");
        using var engine = DockerEngine.Connect($"tcp://{docker.Host}", _ => null);
        var lines = new List<string>();
        using var cancel = new CancellationTokenSource();
        var follow = engine.FollowLogsAsync("c1", new TaskCompletionSource<long>().Task, lines.Add, cancel.Token);
        await Task.Delay(500);
        await cancel.CancelAsync();

        var ended = await Task.WhenAny(follow, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.Same(follow, ended);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follow);
        Assert.Equal(["hello"], lines);
    }
}
