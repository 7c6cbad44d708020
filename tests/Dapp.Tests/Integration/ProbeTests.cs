using System.Diagnostics;

namespace Dapp.Tests.Integration;

/// <summary>
/// What a probe with bad servers found, through the CLI on the default options: every fault is a clear error that
/// names the endpoint, exit 1, never an internal error, and within a bounded time.
/// </summary>
public class ProbeTests : IAsyncLifetime
{
    private const string Password = "pr0be-s3cret-Pa55";
    private readonly string _dir = Directory.CreateTempSubdirectory("dapp-probe-").FullName;

    public Task InitializeAsync()
    {
        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), "dimg: app\nfrom: dapp-examples/busybox:1.35\nshell:\n  install: echo hi\n");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, true);
        return Task.CompletedTask;
    }

    private Task<CliResult> Dapp(Dictionary<string, string>? env, params string[] args)
    {
        var environment = new Dictionary<string, string> { ["DAPP_HOME"] = Path.Combine(_dir, ".home"), ["DAPP_DOCKER_CONFIG"] = Path.Combine(_dir, "none.json") };
        foreach (var (key, value) in env ?? []) environment[key] = value;
        return DappCli.RunAsync(_dir, environment, [.. args, "--name", "probe"]);
    }

    private static void FailsCleanly(CliResult result, string says)
    {
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.Contains(says, result.Stderr);
        Assert.DoesNotContain("Internal error", result.Stderr);
        Assert.DoesNotContain(Password, result.Stdout + result.Stderr);
    }

    [Fact]
    public async Task A_server_answering_html_is_not_taken_for_a_registry()
    {
        await using var html = FakeServer.Http(200, "text/html", "<html><body>Welcome to the captive portal</body></html>");
        var push = await Dapp(null, "dimg", "stages", "push", $"{html.Host}/cache");
        FailsCleanly(push, $"{html.Host} does not look like a Docker registry");
        Assert.DoesNotContain("[EXIST]", push.Stdout);
        FailsCleanly(await Dapp(null, "dimg", "stages", "pull", $"{html.Host}/cache"), "does not look like a Docker registry");
    }

    [Fact]
    public async Task A_port_that_answers_garbage_is_a_clear_error()
    {
        await using var garbage = FakeServer.Garbage();
        FailsCleanly(await Dapp(null, "dimg", "stages", "pull", $"{garbage.Host}/cache"), garbage.Host);
    }

    [Fact]
    public async Task A_registry_that_never_answers_fails_within_a_minute_saying_so()
    {
        await using var silent = FakeServer.Silent();
        var clock = Stopwatch.StartNew();
        var pull = await Dapp(null, "dimg", "stages", "pull", $"{silent.Host}/cache");
        FailsCleanly(pull, "did not answer");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
        // The first 25 s of silence are not spent without a word.
        Assert.Contains($"Warning: no answer from {silent.Host} (no answer within 25 s); trying once more", pull.Stderr);
    }

    [Fact]
    public async Task Credentials_in_a_docker_host_url_never_reach_the_output()
    {
        var port = Registry.FreePort.Next();
        var result = await Dapp(new() { ["DOCKER_HOST"] = $"tcp://alice:{Password}@127.0.0.1:{port}" }, "dimg", "build", "--verbose");
        FailsCleanly(result, $"tcp://127.0.0.1:{port}");
        var invalid = await Dapp(new() { ["DOCKER_HOST"] = $"bogus://alice:{Password}@127.0.0.1:{port}" }, "dimg", "build");
        FailsCleanly(invalid, "Invalid Docker engine address");
    }

    [Fact]
    public async Task A_token_server_answering_html_is_a_clear_error()
    {
        await using var token = FakeServer.Http(200, "text/html", "<html>login</html>");
        await using var registry = FakeServer.Http(401, "application/json", "{}", "Docker-Distribution-API-Version: registry/2.0",
            $"WWW-Authenticate: Bearer realm=\"http://{token.Host}/token\",service=\"probe\"");
        var pull = await Dapp(null, "dimg", "stages", "pull", $"{registry.Host}/cache", "--registry-username", "alice", "--registry-password", Password);
        FailsCleanly(pull, "not a token");
        Assert.Contains($"{token.Host}/token", pull.Stderr);
    }

    [Theory]
    [InlineData("file:///etc/passwd", "not file:")]
    [InlineData("http://169.254.169.254/latest/token", "link-local")]
    [InlineData("http://[fe80::1]/token", "link-local")]
    [InlineData("gopher://127.0.0.1/token", "not gopher:")]
    public async Task A_hostile_token_realm_is_refused_and_no_credentials_are_sent(string realm, string why)
    {
        await using var registry = FakeServer.Http(401, "application/json", "{}", "Docker-Distribution-API-Version: registry/2.0",
            $"WWW-Authenticate: Bearer realm=\"{realm}\",service=\"probe\"");
        var pull = await Dapp(null, "dimg", "stages", "pull", $"{registry.Host}/cache", "--registry-username", "alice", "--registry-password", Password);
        FailsCleanly(pull, $"'{realm}'");
        Assert.Contains(why, pull.Stderr);
        Assert.Contains("No credentials were sent", pull.Stderr);
        Assert.All(registry.Requests, r => Assert.DoesNotContain("Authorization", r, StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("127.0.0.1:99999/cache", "port")]
    [InlineData("Registry.Local/Cache", "Invalid REPO")]
    [InlineData("127.0.0.1:5000/", "Invalid REPO")]
    public async Task An_invalid_repo_is_an_error_before_anything_happens(string repo, string says) =>
        FailsCleanly(await Dapp(null, "dimg", "stages", "pull", repo), says);

    [Fact]
    public async Task A_repo_longer_than_registries_accept_is_an_error() =>
        FailsCleanly(await Dapp(null, "dimg", "stages", "push", "127.0.0.1:5000/" + string.Join("/", Enumerable.Repeat(new string('a', 60), 5))), "longer than the 255");

    [Fact]
    public async Task An_unreachable_registry_is_a_clear_error() =>
        FailsCleanly(await Dapp(null, "dimg", "stages", "pull", $"127.0.0.1:{Registry.FreePort.Next()}/cache"), "cannot reach the registry");

    [Fact]
    public async Task Missing_repo_and_bad_options_are_errors_naming_them()
    {
        Assert.Equal(1, (await Dapp(null, "dimg", "stages", "pull")).ExitCode);
        FailsCleanly(await Dapp(null, "dimg", "stages", "pull", "--parallel", "0", "127.0.0.1:5000/x"), "--parallel takes a whole number of transfers from 1 to 64");
        FailsCleanly(await Dapp(null, "dimg", "stages", "pull", "--parallel", "100000", "127.0.0.1:5000/x"), "--parallel takes a whole number of transfers from 1 to 64");
        FailsCleanly(await Dapp(null, "dimg", "build", "--lock-timeout", "-5"), "--lock-timeout takes a whole number of seconds from 0 to");
        FailsCleanly(await Dapp(null, "dimg", "stages", "pull", "--insecure-registry", "http://reg/x", "127.0.0.1:5000/x"), "--insecure-registry 'http://reg/x'");
    }

    [Theory]
    [InlineData("tcp://", "Invalid Docker engine address")]
    [InlineData("foo://bar", "Invalid Docker engine address")]
    [InlineData("unix:///nonexistent/docker.sock", "Cannot talk to the Docker engine")]
    public async Task A_bad_docker_host_is_a_clear_error(string host, string says) =>
        FailsCleanly(await Dapp(new() { ["DOCKER_HOST"] = host }, "dimg", "build"), says);

    [Fact]
    public async Task A_closed_non_engine_or_silent_docker_host_is_a_clear_error()
    {
        FailsCleanly(await Dapp(new() { ["DOCKER_HOST"] = $"tcp://127.0.0.1:{Registry.FreePort.Next()}" }, "dimg", "build"), "Cannot talk to the Docker engine");
        await using var html = FakeServer.Http(200, "text/html", "<html>hello</html>");
        FailsCleanly(await Dapp(new() { ["DOCKER_HOST"] = $"tcp://{html.Host}" }, "dimg", "build"), "Docker engine");
        await using var silent = FakeServer.Silent();
        var clock = Stopwatch.StartNew();
        FailsCleanly(await Dapp(new() { ["DOCKER_HOST"] = $"tcp://{silent.Host}" }, "dimg", "build"), "did not answer");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"took {clock.Elapsed}");
    }
}
