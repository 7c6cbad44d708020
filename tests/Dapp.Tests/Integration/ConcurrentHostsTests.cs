using Xunit.Abstractions;
using System.Diagnostics;
using Dapp.Registry.Model;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Tests.Integration;

/// <summary>
/// Many hosts building one project at once in distributed mode, with nothing but the registry to coordinate them
/// (docs/distributed.md): every host is a fresh engine of its own, given only the base image.
/// </summary>
[Collection(TransferCollection.Name)]
public class ConcurrentHostsTests(ITestOutputHelper output)
{
    private readonly string _repo = $"127.0.0.1:5000/concurrent/{Guid.NewGuid():N}";

    /// <summary>Three stages of ~2 s that write random data (copies built by two hosts would differ), on from.</summary>
    private static string SlowDappfile(string marker, int seconds = 2) => $"""
        dimg: app
        from: dapp-examples/busybox:1.35
        shell:
          beforeInstall: sleep {seconds} && echo {marker} > /marker && head -c 200000 /dev/urandom > /a
          install: sleep {seconds} && head -c 200000 /dev/urandom > /b
          setup: sleep {seconds} && head -c 200000 /dev/urandom > /c
        """;

    private static Process Start(FreshEngine host, TestProject test, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var environment = host.Environment(test);
        foreach (var (key, value) in env ?? new Dictionary<string, string>()) environment[key] = value;
        return DappCli.Start(test.Dir, environment, [.. args, "--name", test.Name]);
    }

    private static async Task<FreshEngine[]> StartHostsAsync(int count)
    {
        var hosts = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => FreshEngine.StartAsync()));
        await Task.WhenAll(hosts.Select(h => h.LoadBaseImageAsync()));
        return hosts;
    }

    /// <summary>Stage lines in a state (a [WAITING] line goes on with whom it waits for).</summary>
    private static int Count(CliResult result, string state) => result.StdoutLines.Count(l => l.EndsWith(state) || l.Contains(state + " "));

    /// <summary>Each stage tag names a complete image whose layers start with its parent stage's; each dimg tag has its stage's layers.</summary>
    private async Task AssertConsistentAsync(TestProject test, string context)
    {
        using var project = await test.LoadAsync();
        var chain = (await project.SelectConveyorsAsync([], default))[0];
        using var client = new RegistryClient();
        var repository = RepositoryName.Parse(_repo);
        IReadOnlyList<Descriptor>? parent = null;
        foreach (var stage in chain.Stages)
        {
            var layers = (await client.GetManifestAsync(ImageReference.WithTag(repository, RegistryStagesStorage.Tag(stage.Signature)), null, default)).AsManifest().Layers;
            foreach (var layer in layers) Assert.True(await client.HeadBlobAsync(repository, layer.Digest, default) == layer.Size, $"{context}: a layer of {stage.Name.DappName()} is missing");
            if (parent is not null)
                Assert.True(layers.Take(parent.Count).SequenceEqual(parent), $"{context}: the layers of {stage.Name.DappName()} do not start with its parent's");
            parent = layers;
        }
        var dimg = (await client.GetManifestAsync(ImageReference.Parse($"{_repo}/app:latest"), null, default)).AsManifest();
        Assert.Equal(parent, dimg.Layers);
    }

    /// <summary>After the race: no claim is left in REPO, and another host's bp builds and pulls nothing.</summary>
    private async Task AssertSettledAsync(FreshEngine other, TestProject test)
    {
        using (var client = new RegistryClient())
            Assert.DoesNotContain(await client.ListTagsAsync(RepositoryName.Parse(_repo), 1000, default), t => t.StartsWith(StageClaims.TagPrefix));
        var after = await DappCli.FinishAsync(Start(other, test, null, "dimg", "bp", "--stages-storage", _repo, _repo));
        Assert.True(after.ExitCode == 0, after.Stderr + after.Stdout);
        Assert.Equal(0, Count(after, "[BUILD]"));
        Assert.Equal(0, Count(after, "[PULL]"));
    }

    [Fact]
    public async Task Four_hosts_at_once_build_each_stage_about_once_and_a_fifth_builds_nothing()
    {
        await using var test = new TestProject(SlowDappfile(Guid.NewGuid().ToString("N")));
        var hosts = await StartHostsAsync(5);
        try
        {
            var runs = hosts.Take(4).Select(h => Start(h, test, null, "dimg", "bp", "--stages-storage", _repo, _repo, "--time")).ToList();
            var results = await Task.WhenAll(runs.Select(DappCli.FinishAsync));
            foreach (var r in results) Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
            // A build started under a claim that another host's racing write took over stops before its commit: a start, not a build.
            var started = results.Sum(r => Count(r, "[BUILD]"));
            var built = results.Sum(r => r.StdoutLines.Count(l => l.Contains(" built in ")));
            // The figures docs/distributed.md quotes.
            output.WriteLine($"stages built across 4 hosts: {built} for 4 stages ([BUILD] lines: {started}); [WAITING] lines: {results.Sum(r => Count(r, "[WAITING]"))}");
            foreach (var r in results) output.WriteLine(string.Join("\n", r.StdoutLines.Where(l => l.Contains(" [") || l.StartsWith("stages storage"))) + "\n");
            Assert.InRange(built, 4, 6);
            Assert.InRange(started - built, 0, 3);
            Assert.Contains(results, r => Count(r, "[WAITING]") > 0);
            await AssertConsistentAsync(test, "after four hosts");
            await AssertSettledAsync(hosts[4], test);
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_hosts_building_a_wide_project_with_four_jobs_each_build_each_stage_about_once()
    {
        await using var test = new TestProject(ParallelBuildTests.WideDappfile(Guid.NewGuid().ToString("N")));
        var hosts = await StartHostsAsync(3);
        try
        {
            var runs = hosts.Take(2).Select(h => Start(h, test, null, "dimg", "bp", "--stages-storage", _repo, _repo, "--jobs", "4", "--time")).ToList();
            var results = await Task.WhenAll(runs.Select(DappCli.FinishAsync));
            foreach (var r in results) Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
            var stages = results.SelectMany(r => r.StdoutLines.Where(l => l.TrimEnd().EndsWith(']')).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^2]))
                .Where(s => s.Length == 64).Distinct().Count();
            var built = results.Sum(r => r.StdoutLines.Count(l => l.Contains(" built in ")));
            output.WriteLine($"two hosts, --jobs 4 each: {built} stage builds for {stages} stages; [WAITING] lines: {results.Sum(r => Count(r, "[WAITING]"))}");
            foreach (var r in results) output.WriteLine(string.Join("\n", r.StdoutLines.Where(l => l.Contains(" [") || l.Contains(" built in "))) + "\n");
            Assert.InRange(built, stages, stages + 3);
            await AssertSettledAsync(hosts[2], test);
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_claims_written_between_each_others_read_and_write_settle_on_the_later_writer()
    {
        await using var proxy = new Registry.FaultProxy(5000);
        var viaProxy = RepositoryName.Parse(_repo.Replace("127.0.0.1:5000", proxy.Host));
        var firstReadSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var laterWrite = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // B finds the tag free, but its write reaches the registry only after A has written and read back its own claim.
        proxy.Rule = r => r.Path.Contains("/manifests/" + StageClaims.TagPrefix) && r.Method switch
        {
            "GET" => firstReadSeen.TrySetResult() && false,
            "PUT" => true,
            _ => false,
        } ? new Registry.HoldFault(laterWrite.Task) : null;
        using var directClient = new RegistryClient();
        using var proxiedClient = new RegistryClient();
        var settle = TimeSpan.FromSeconds(1.5);
        var published = (string _, CancellationToken _) => Task.FromResult(false);
        var a = new StageClaims(new Dapp.Registry.Remote.RemoteRepository(directClient, RepositoryName.Parse(_repo)), TimeSpan.FromSeconds(60), _ => { }, published, settle);
        var b = new StageClaims(new Dapp.Registry.Remote.RemoteRepository(proxiedClient, viaProxy), TimeSpan.FromSeconds(60), _ => { }, published, settle);
        var signature = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");

        var bTakes = b.TryTakeAsync(signature, default);
        await firstReadSeen.Task;
        var aTook = await a.TryTakeAsync(signature, default);
        Assert.True(aTook.Held);
        laterWrite.SetResult();
        var bTook = await bTakes;
        // Both read their own claims back: the race the settle check is there for.
        Assert.True(bTook.Held);
        await using var aHold = a.Hold(signature);
        await using var bHold = b.Hold(signature);
        var aConfirmed = aHold.ConfirmAsync(default);
        await bHold.ConfirmAsync(default);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => aConfirmed);
        Assert.True(aHold.IsLost);
        Assert.False(bHold.IsLost);
    }

    [Fact]
    public async Task A_host_whose_claim_was_overwritten_by_a_racing_one_stops_its_build_and_waits()
    {
        await using var test = new TestProject(SlowDappfile(Guid.NewGuid().ToString("N"), seconds: 1));
        var hosts = await StartHostsAsync(2);
        await using var proxyA = new Registry.FaultProxy(5000);
        await using var proxyB = new Registry.FaultProxy(5000);
        var bReadItsClaimBack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aFirstWrite = 0;
        // A's first claim write (of the from stage) lands only after B has written the same claim and read it back:
        // both hosts then hold it by their read-backs, and only the settle check can tell them apart.
        proxyA.Rule = r => r.Method == "PUT" && r.Path.Contains("/manifests/" + StageClaims.TagPrefix) && Interlocked.Exchange(ref aFirstWrite, 1) == 0
            ? new Registry.HoldFault(bReadItsClaimBack.Task)
            : null;
        var bWrote = 0;
        proxyB.Answered = r =>
        {
            if (r.Method == "GET" && r.Path.Contains("/manifests/" + StageClaims.TagPrefix) && Volatile.Read(ref bWrote) == 1) bReadItsClaimBack.TrySetResult();
        };
        // B's settle check (its second claim read after its write) goes out only once A's write has landed: what the
        // settle time guarantees in a real race, here without depending on how fast a loaded machine forwards A's write.
        var aWriteLanded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // And B's write lands only once A has found the tag free: a B that started ahead would otherwise claim, settle
        // and build before A looked, and A would simply wait (CI saw that once: B's held settle read timed out).
        var aFoundFree = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        proxyA.Answered = r =>
        {
            if (!r.Path.Contains("/manifests/" + StageClaims.TagPrefix)) return;
            if (r.Method == "PUT") aWriteLanded.TrySetResult();
            else if (r.Method == "GET") aFoundFree.TrySetResult();
        };
        var bReadsAfterWrite = 0;
        proxyB.Rule = r =>
        {
            if (!r.Path.Contains("/manifests/" + StageClaims.TagPrefix)) return null;
            // Marked when B's write arrives, so that its read-back, sent once the write is answered, counts as read 1.
            if (r.Method == "PUT") return Interlocked.Exchange(ref bWrote, 1) == 0 ? new Registry.HoldFault(aFoundFree.Task) : null;
            return r.Method == "GET" && Volatile.Read(ref bWrote) == 1 && Interlocked.Increment(ref bReadsAfterWrite) == 2
                ? new Registry.HoldFault(aWriteLanded.Task)
                : null;
        };
        try
        {
            var repoA = _repo.Replace("127.0.0.1:5000", proxyA.Host);
            var repoB = _repo.Replace("127.0.0.1:5000", proxyB.Host);
            var runA = Start(hosts[0], test, null, "dimg", "bp", "--stages-storage", repoA, repoA);
            var runB = Start(hosts[1], test, null, "dimg", "bp", "--stages-storage", repoB, repoB);
            var (a, b) = (await DappCli.FinishAsync(runA), await DappCli.FinishAsync(runB));
            Assert.True(a.ExitCode == 0, a.Stderr + a.Stdout);
            Assert.True(b.ExitCode == 0, b.Stderr + b.Stdout);
            Assert.True(bReadItsClaimBack.Task.IsCompleted, "B never read its claim back");
            // B started the from stage, lost it to A's later claim and stopped before its commit: it waited for A's
            // stage ([WAITING]), or found it published already when its settle check came after A was done (B's
            // settle time grows with its slowest claim write, which this test holds). Never a copy of its own.
            var bLines = b.StdoutLines.Where(l => l.Contains(" from ") && l.Contains(" [")).ToList();
            Assert.True(bLines.Count >= 1 && bLines[0].EndsWith("[BUILD]") && !bLines.Any(l => l.EndsWith("[EXIST]")), b.Stdout + b.Stderr);
            Assert.DoesNotContain("published stage from first", b.Stderr);
            Assert.Equal(1, Count(b, "[BUILD]"));
            Assert.Equal(4, Count(a, "[BUILD]"));
            Assert.Contains("pushed 0 stage(s)", b.StdoutLines.Last());
            await AssertConsistentAsync(test, "after the raced claim");
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task When_a_claim_holder_of_this_host_is_killed_the_rerun_takes_its_claim_over_at_once()
    {
        await using var test = new TestProject($"""
            dimg: app
            from: dapp-examples/busybox:1.35
            shell:
              beforeInstall: echo {Guid.NewGuid():N} > /marker && sleep 6 && head -c 200000 /dev/urandom > /a
              install: head -c 200000 /dev/urandom > /b
            """);
        var hosts = await StartHostsAsync(2);
        try
        {
            using var client = new RegistryClient();
            // The default claim lasts 60 s: a rerun that waited it out would take a minute.
            var holder = Start(hosts[0], test, null, "dimg", "bp", "--stages-storage", _repo, _repo);
            await WaitForClaimAsync(client, test, StageName.BeforeInstall);
            holder.Kill(entireProcessTree: true);
            await DappCli.FinishAsync(holder);

            // The killed process ran on this machine: its claim (which names its process) is taken over at once. Timed from
            // the stage before (from): the process's start and first engine and registry calls are the machine's speed
            // (0.4 s of 1.4 s here alone, 2.1 s in all with the suite beside it), not the claim's.
            var clock = Stopwatch.StartNew();
            var rerun = Start(hosts[1], test, null, "dimg", "bp", "--stages-storage", _repo, _repo);
            var stdout = new List<string>();
            TimeSpan? from = null, building = null;
            while (await rerun.StandardOutput.ReadLineAsync() is { } line)
            {
                stdout.Add($"{clock.Elapsed.TotalSeconds:0.000} {line}");
                if (from is null && line.Contains(" from ") && line.EndsWith("[BUILD]")) from = clock.Elapsed;
                if (building is null && line.Contains("before_install") && line.EndsWith("[BUILD]")) building = clock.Elapsed;
            }
            var taker = await DappCli.FinishAsync(rerun);
            Assert.True(taker.ExitCode == 0, taker.Stderr + string.Join('\n', stdout));
            Assert.DoesNotContain(stdout, l => l.Contains("[WAITING]"));
            Assert.True(from is not null && building - from < TimeSpan.FromSeconds(2), $"the rerun began building before_install {(building - from)?.TotalSeconds:0.0} s after from:\n{string.Join('\n', stdout)}");
            await AssertConsistentAsync(test, "after the takeover");
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_claim_of_another_machine_is_waited_for_until_it_expires()
    {
        await using var test = new TestProject($"""
            dimg: app
            from: dapp-examples/busybox:1.35
            shell:
              beforeInstall: echo {Guid.NewGuid():N} > /marker
            """);
        var hosts = await StartHostsAsync(1);
        try
        {
            // A holder on another machine, which this one cannot see die: its claim stands until it expires (4 s).
            using var client = new RegistryClient();
            using (var project = await test.LoadAsync())
            {
                var signature = (await project.SelectConveyorsAsync([], default))[0].SignatureOf(StageName.BeforeInstall);
                var repository = RepositoryName.Parse(_repo);
                await new EmptyManifests(new Dapp.Registry.Remote.RemoteRepository(client, repository)).EnsureConfigAsync(default);
                await client.PutManifestAsync(repository, StageClaims.Tag(signature), EmptyManifests.Create(new Dictionary<string, string>
                {
                    ["dapp.claim.holder"] = "elsewhere/4242/0badc0de",
                    ["dapp.claim.expires"] = DateTimeOffset.UtcNow.AddSeconds(4).UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                    ["dapp.claim.owner"] = "elsewhere/another-boot/4242/1",
                }), default);
            }
            var taker = await DappCli.FinishAsync(Start(hosts[0], test, null, "dimg", "bp", "--stages-storage", _repo, _repo));
            Assert.True(taker.ExitCode == 0, taker.Stderr + taker.Stdout);
            Assert.Contains(taker.StdoutLines, l => l.Contains("[WAITING]") && l.Contains("for elsewhere/4242/0badc0de"));
            Assert.Contains(taker.StdoutLines, l => l.Contains("before_install") && l.EndsWith("[BUILD]"));
            await AssertConsistentAsync(test, "after the expiry");
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    /// <remarks>
    /// Six rounds on real engines and a real registry (real timing); the algorithm itself races through many more in
    /// fake time (Unit/Simulation: 100 seeded rounds of ten hosts).
    /// </remarks>
    [Fact]
    public async Task Rounds_of_two_hosts_racing_on_a_stage_leave_no_inconsistent_chain()
    {
        var hosts = await StartHostsAsync(2);
        try
        {
            var random = new Random();
            for (int round = 0; round < 6; round++)
            {
                await using var test = new TestProject($"""
                    dimg: app
                    from: dapp-examples/busybox:1.35
                    shell:
                      install: echo {Guid.NewGuid():N} > /marker && sleep 1 && head -c 100000 /dev/urandom > /r
                      setup: head -c 1000 /dev/urandom > /s
                    """);
                var offset = random.Next(0, 1500);
                var first = Start(hosts[0], test, null, "dimg", "bp", "--stages-storage", _repo, _repo);
                await Task.Delay(offset);
                var second = Start(hosts[1], test, null, "dimg", "bp", "--stages-storage", _repo, _repo);
                var results = await Task.WhenAll(DappCli.FinishAsync(first), DappCli.FinishAsync(second));
                foreach (var r in results) Assert.True(r.ExitCode == 0, $"round {round}: {r.Stderr}{r.Stdout}");
                await AssertConsistentAsync(test, $"round {round} (offset {offset} ms)");
            }
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_registry_that_refuses_claims_builds_without_them_with_one_warning()
    {
        await using var test = new TestProject(SlowDappfile(Guid.NewGuid().ToString("N"), seconds: 0));
        await using var proxy = new Registry.FaultProxy(5000);
        var refused = 0;
        proxy.Rule = r => r.Method == "PUT" && r.Path.Contains("/manifests/" + StageClaims.TagPrefix) && Interlocked.Increment(ref refused) > 0
            ? new Registry.StatusFault(403)
            : null;
        var repo = _repo.Replace("127.0.0.1:5000", proxy.Host);
        var result = await DappCli.RunAsync(test, "dimg", "bp", "--stages-storage", repo, repo);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Equal(1, refused);
        Assert.Single(result.Stderr.Split('\n'), l => l.Contains("refuses claims"));
        Assert.Equal(4, Count(result, "[BUILD]"));
        await AssertConsistentAsync(test, "without claims");
    }

    [Fact]
    public async Task Lock_timeout_bounds_the_wait_for_another_hosts_claim()
    {
        await using var test = new TestProject(SlowDappfile(Guid.NewGuid().ToString("N"), seconds: 15));
        var hosts = await StartHostsAsync(2);
        var holder = Start(hosts[0], test, null, "dimg", "bp", "--stages-storage", _repo, _repo);
        try
        {
            using var client = new RegistryClient();
            await WaitForClaimAsync(client, test, StageName.BeforeInstall);
            var clock = Stopwatch.StartNew();
            var waiter = await DappCli.FinishAsync(Start(hosts[1], test, null, "dimg", "bp", "--stages-storage", _repo, _repo, "--lock-timeout", "2"));
            Assert.Equal(1, waiter.ExitCode);
            Assert.Contains("timed out after 2 s waiting for", waiter.Stderr);
            Assert.True(Count(waiter, "[WAITING]") > 0, waiter.Stdout);
            Assert.InRange(clock.Elapsed.TotalSeconds, 2, 12);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            await DappCli.FinishAsync(holder);
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    /// <summary>Waits until the registry has a claim on the stage of the project's dimg.</summary>
    private async Task WaitForClaimAsync(RegistryClient client, TestProject test, StageName stage)
    {
        using var project = await test.LoadAsync();
        var signature = (await project.SelectConveyorsAsync([], default))[0].SignatureOf(stage);
        var claim = ImageReference.WithTag(RepositoryName.Parse(_repo), StageClaims.Tag(signature));
        var clock = Stopwatch.StartNew();
        while (await client.HeadManifestAsync(claim, default) is null)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"no host claimed {stage.DappName()}");
            await Task.Delay(100);
        }
    }
}
