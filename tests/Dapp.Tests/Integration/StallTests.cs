using System.Diagnostics;
using Dapp.Tests.Integration.Registry;

namespace Dapp.Tests.Integration;

/// <summary>
/// A registry that stalls (accepts, then stops answering: before the answer, or in the middle of a blob's body): every
/// command ends within a minute of the stall with exit 1 and a message saying what stalled, whichever path moves the
/// bytes (the engine's pull and push, dapp's own client). The four commands run at once against one stalling proxy.
/// </summary>
/// <remarks>Not in the engine collection: it runs beside it (most of its time is waiting), since it builds on the
/// first engine under a project name of its own and pulls onto engines of its own (fresh dockerds), through a proxy
/// of its own: the engine tests cannot see it, nor it them.</remarks>
public class StallTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static readonly string Dappfile = $"""
        dimg: app
        from: {EngineFixture.BaseImage}
        shell:
          install: head -c 400000 /dev/urandom > /data
          setup: echo ready > /ready
        """;

    [Fact]
    public async Task Every_command_ends_within_a_minute_of_a_stall()
    {
        await using var test = new TestProject(Dappfile);
        await test.BuildAsync();
        await using var proxy = new FaultProxy(5000);
        var repo = $"{proxy.Host}/stall/{Guid.NewGuid():N}";
        var push = await DappCli.RunAsync(test, "dimg", "push", "--with-stages", repo);
        Assert.True(push.ExitCode == 0, push.Stderr);

        // From now on: blob bodies stop after 1,000 bytes, uploads are never answered.
        proxy.Rule = r =>
            r.Method == "GET" && r.Path.Contains("/blobs/sha256:") ? new StallFault(1000)
            : r.Method is "PATCH" or "PUT" && r.Path.Contains("/blobs/uploads/") ? new StallFault(null)
            : null;
        await using var pullHost = await FreshEngine.StartAsync();
        await using var loadHost = await FreshEngine.StartAsync();
        await using var distributedHost = await FreshEngine.StartAsync();

        async Task<(CliResult Result, TimeSpan Took)> TimedAsync(Func<Task<CliResult>> run)
        {
            var clock = Stopwatch.StartNew();
            var result = await run();
            return (result, clock.Elapsed);
        }
        var runs = await Task.WhenAll(
            TimedAsync(() => DappCli.RunAsync(test.Dir, pullHost.Environment(test), "dimg", "stages", "pull", "--name", test.Name, repo)),
            TimedAsync(() => DappCli.RunAsync(test.Dir, loadHost.Environment(test), "dimg", "stages", "pull", "--transfer", "load", "--name", test.Name, repo)),
            TimedAsync(() => DappCli.RunAsync(test, "dimg", "stages", "push", $"{repo}-new")),
            TimedAsync(() => DappCli.RunAsync(test.Dir, distributedHost.Environment(test), "dimg", "bp", "--stages-storage", repo, "--name", test.Name, "--tag", "other", repo)));

        string[] says = ["the engine reported no progress for 25 s", "no data for 25 s", "did not answer (no answer within 25 s", "no data for 25 s"];
        string[] what = ["stages pull (the engine's pull)", "stages pull --transfer load", "stages push (dapp's own upload)", "bp --stages-storage (dapp reading the last stage's config)"];
        for (int i = 0; i < runs.Length; i++)
        {
            var (result, took) = runs[i];
            Assert.True(result.ExitCode == 1, $"{what[i]}: exit {result.ExitCode} after {took.TotalSeconds:0} s: {result.Stderr}");
            Assert.True(took < Bound, $"{what[i]}: took {took.TotalSeconds:0} s");
            Assert.Contains(says[i], result.Stderr);
            Assert.DoesNotContain("Internal error", result.Stderr);
        }
        // What stalled is said, not waited out in silence: the client's stalled body is resumed once, with a warning.
        Assert.Contains("resuming once more", runs[1].Result.Stderr);
    }
}
