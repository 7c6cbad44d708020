using Dapp.Reporting;
using Dapp.Tests.Integration.Registry;

namespace Dapp.Tests.Integration;

/// <summary>
/// The commands on their default path (the engine moves the bytes) through a registry that fails: every 7th request
/// answers 503, 429 with Retry-After or 429 without (a 429 only to the first try of a method and path, else a 503), and
/// every 3rd blob download is cut in the middle.
/// </summary>
[Collection(TransferCollection.Name)]
public class FaultToleranceTests : IAsyncLifetime
{
    public Task InitializeAsync() => SecondEngine.EnsureUpAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    private static readonly string Dappfile = $"""
        artifact: tools
        from: {EngineFixture.BaseImage}
        shell:
          install: mkdir -p /out && head -c 300000 /dev/urandom > /out/tool
        ---
        dimg: app
        from: {EngineFixture.BaseImage}
        import:
        - {"{"}artifact: tools, add: /out, to: /opt/tools, after: install{"}"}
        shell:
          install: head -c 200000 /dev/urandom > /data
          setup: echo ready > /ready
        """;

    /// <summary>The faults of the acceptance criteria, counted over every request the proxy sees.</summary>
    private static void Faulty(FaultProxy proxy)
    {
        var requests = 0;
        var blobs = 0;
        // A 429 goes only to the first request of a method and path: a request refused again after its wait would be a
        // used-up quota, which fails the operation by design (RegistryKindsTests). A retry, or another request of the
        // same path (parallel uploads all POST to /blobs/uploads/), gets a 503 in that slot instead.
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>();
        proxy.Rule = r =>
        {
            var n = Interlocked.Increment(ref requests);
            var first = seen.TryAdd($"{r.Method} {r.Path}", 0);
            if (n % 7 == 0)
                return (n / 7 % 3, first) switch
                {
                    (1, true) => new StatusFault(429, RetryAfterSeconds: 1),
                    (2, true) => new StatusFault(429),
                    _ => new StatusFault(503),
                };
            if (r.Method == "GET" && r.Path.Contains("/blobs/sha256:") && Interlocked.Increment(ref blobs) % 3 == 0)
                return new ResetFault(512);
            return null;
        };
    }

    [Fact]
    public async Task Push_with_stages_and_stages_pull_succeed_through_faults_and_the_next_build_rebuilds_nothing()
    {
        await using var test = new TestProject(Dappfile);
        await test.BuildAsync();
        await using var proxy = new FaultProxy(5000);
        Faulty(proxy);
        var repo = $"{proxy.Host}/faults/{Guid.NewGuid():N}";

        // Five pushes, each into a repository of its own, so that each one moves every stage and the dimg (the fault
        // pattern repeats every 21 requests, so each run meets it at another point: ten runs took 140 s of the suite).
        for (int i = 0; i < 5; i++)
        {
            var push = await DappCli.RunAsync(test, "dimg", "push", "--with-stages", $"{repo}-{i}");
            Assert.True(push.ExitCode == 0, $"push {i}: {push.Stderr}");
            Assert.Equal(5, await StageTags.AssertCompleteAsync($"{repo}-{i}", $"push {i}"));
        }
        Assert.True(proxy.Seen.Count > 50, $"the pushes went through the proxy ({proxy.Seen.Count} requests)");

        // Ten pulls on a host whose stages cache is empty before each.
        test.AlsoUsed.Add((SecondEngine.Host, test.Name));
        using var b = await test.LoadAsync(SecondEngine.Host);
        var expected = (await b.SelectConveyorsAsync([], default)).Select(c => c.LastSignature)
            .Append((await b.Conveyors.ForAsync(b.Dappfile.FindArtifact("tools")!, default)).LastSignature).Order().ToList();
        for (int i = 0; i < 10; i++)
        {
            await b.Stages.FlushAsync(default);
            var pull = await DappCli.RunAsync(test.Dir, SecondEngine.Environment(test), "dimg", "stages", "pull", $"{repo}-{i % 5}", "--name", test.Name);
            Assert.True(pull.ExitCode == 0, $"pull {i}: {pull.Stderr}");
            Assert.Equal(expected, (await b.Stages.ListAsync(default)).SelectMany(s => s.RepoTags).Select(t => t.Split(':')[1]).Order());
        }
        var build = await test.BuildOnAsync(SecondEngine.Host, null);
        Assert.DoesNotContain(build.Stages, s => s.State == StageState.Build);
        foreach (var signature in expected)
            Assert.NotEmpty(await DockerCli.ShellAsyncOn(SecondEngine.Host, b.Stages.ImageName(signature), "ls /"));
    }

    [Fact]
    public async Task A_base_image_pulled_through_a_failing_registry_is_retried_and_the_build_succeeds()
    {
        var repository = $"faults-base/{Guid.NewGuid():N}";
        Assert.Equal(0, (await DockerCli.RunAsync("tag", EngineFixture.BaseImage, $"127.0.0.1:5000/{repository}:1")).ExitCode);
        Assert.Equal(0, (await DockerCli.RunAsync("push", $"127.0.0.1:5000/{repository}:1")).ExitCode);
        await DockerCli.RunAsync("rmi", $"127.0.0.1:5000/{repository}:1");
        await using var proxy = new FaultProxy(5000);
        var manifests = 0;
        proxy.Rule = r => r.Path.Contains("/manifests/") && Interlocked.Increment(ref manifests) <= 2 ? new StatusFault(503) : null;
        var from = $"{proxy.Host}/{repository}:1";
        await using var test = new TestProject($"dimg: app\nfrom: {from}\nshell:\n  install: echo ok > /ok\n");
        test.AlsoUsed.Add((SecondEngine.Host, test.Name));
        try
        {
            var build = await DappCli.RunAsync(test.Dir, SecondEngine.Environment(test), "dimg", "build", "--name", test.Name);
            Assert.True(build.ExitCode == 0, build.Stderr);
            Assert.Contains("503", build.Stderr);
            Assert.Contains("retrying in", build.Stderr);
            Assert.True(manifests >= 3, $"{manifests} manifest requests");
        }
        finally
        {
            await DockerCli.RunAsync("-H", SecondEngine.Host, "rmi", from);
        }
    }
}
