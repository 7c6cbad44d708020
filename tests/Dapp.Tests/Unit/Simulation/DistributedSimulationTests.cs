using Dapp.Config;
using Dapp.Stages;
using Xunit.Abstractions;

namespace Dapp.Tests.Unit.Simulation;

/// <summary>
/// The distributed algorithm (docs/distributed.md) on simulated hosts: the real builder and claims, an in-memory
/// registry, engines in memory, fake time on one thread, so that a seed gives one run. Every round ends with the
/// registry holding one consistent chain (each stage built on the registry's copy of its parent) and no host keeping
/// a copy of a stage other than the registry's.
/// </summary>
public class DistributedSimulationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(5);

    private static async Task<Conveyor> ChainAsync()
    {
        var dappfile = DappfileParser.Parse("""
            dimg: app
            from: busybox
            shell:
              beforeInstall: echo 1
              install: echo 2
              beforeSetup: echo 3
              setup: echo 4
            docker:
              CMD: ["/app"]
            """, "/p/dappfile.yml");
        return await new ConveyorFactory(dappfile).ForAsync(dappfile.Dimgs[0], default);
    }

    /// <summary>A round: hosts that start at seeded moments within <paramref name="spread"/>, until every one has ended.</summary>
    private sealed class Round
    {
        public SimulatedTime Time { get; } = new();
        public SimulatedRegistry Registry { get; }
        public List<SimulatedHost> Hosts { get; } = [];
        public List<string> Log { get; } = [];
        public Dictionary<SimulatedHost, Task<bool>> Builds { get; } = new();

        public Round(int seed, int hosts)
        {
            Registry = new SimulatedRegistry(Time, seed);
            for (int i = 0; i < hosts; i++) Hosts.Add(new SimulatedHost(Time, Registry, $"host{i}", seed * 100 + i, Log));
        }

        public void Start(SimulatedHost host, Conveyor conveyor, TimeSpan after, TimeSpan claimTtl, bool claims = true) =>
            Builds[host] = host.Context.Start(async () =>
            {
                await Task.Delay(after, Time.Clock);
                return await host.BuildAsync([conveyor], claimTtl, claims);
            });

        public void Run(TimeSpan limit, Func<bool>? until = null)
        {
            try
            {
                Time.RunUntil(until ?? (() => Builds.Where(b => !b.Key.Context.IsDead).All(b => b.Value.IsCompleted)), Step, limit);
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}\n{string.Join("\n", Log)}\n" + string.Join("\n", Hosts.Select(h =>
                    $"{h.Name}: {(Builds.TryGetValue(h, out var b) ? b.Status.ToString() : "not started")}: " + string.Join("; ", h.Reporter.Stages.Select(s => $"{s.Stage} {s.State}"))
                    + " | " + string.Join("; ", h.Reporter.Lines))));
            }
        }

        public int Commits => Hosts.Sum(h => h.Commits.Count);

        /// <summary>The registry holds the whole chain, each stage on its parent's copy there; no host keeps another copy of a stage.</summary>
        public void AssertConsistent(Conveyor conveyor, string what)
        {
            SimImage? parent = null;
            foreach (var stage in conveyor.Stages)
            {
                Assert.True(Registry.Stages.TryGetValue(stage.Signature, out var stored), $"{what}: {stage.Name.DappName()} is not in the registry");
                Assert.True(parent is null ? stored.Layers[0] == "base" : stored.IsBuiltOn(parent), $"{what}: {stage.Name.DappName()} is not built on the registry's parent");
                parent = stored;
                foreach (var host in Hosts.Where(h => !h.Context.IsDead))
                    Assert.True(host.Image(stage.Signature) is null || host.Image(stage.Signature) == stored,
                        $"{what}: {host.Name} keeps another copy of {stage.Name.DappName()} than the registry's");
            }
        }
    }

    /// <summary>Seeds 1 to 50; 51 to 100 in <see cref="DistributedSimulationRaceTests"/>, a class of its own, so that xunit runs the halves at once.</summary>
    [Fact]
    public Task Ten_hosts_racing_on_a_six_stage_chain_build_each_stage_about_once() => RaceAsync(1, 50, output);

    /// <summary>
    /// Rounds of ten hosts starting within 2 s of each other on a six-stage chain: every stage is built about once in
    /// all (a build factor of at most 1.05), and two hosts building one stage at once happened (the settle check ran).
    /// </summary>
    internal static async Task RaceAsync(int firstSeed, int lastSeed, ITestOutputHelper output)
    {
        var conveyor = await ChainAsync();
        Assert.Equal(6, conveyor.Stages.Count);
        var rounds = lastSeed - firstSeed + 1;
        var commits = 0;
        var stopped = 0;
        var worst = 0;
        for (int seed = firstSeed; seed <= lastSeed; seed++)
        {
            var round = new Round(seed, hosts: 10);
            var random = new Random(seed);
            foreach (var host in round.Hosts) round.Start(host, conveyor, TimeSpan.FromMilliseconds(random.Next(0, 2000)), TimeSpan.FromSeconds(60));
            round.Run(TimeSpan.FromMinutes(10));
            foreach (var (host, build) in round.Builds) Assert.True(build.IsCompletedSuccessfully, $"seed {seed}: {host.Name}: {build.Exception?.InnerException?.Message}");
            round.AssertConsistent(conveyor, $"seed {seed}");
            commits += round.Commits;
            stopped += round.Hosts.Sum(h => h.Starts) - round.Commits;
            worst = Math.Max(worst, round.Commits);
        }
        var factor = commits / (rounds * (double)conveyor.Stages.Count);
        output.WriteLine($"10 hosts, 6 stages, seeds {firstSeed} to {lastSeed}: {commits} stage builds committed for {rounds * conveyor.Stages.Count} stages, "
                         + $"build factor {factor:0.000} (worst round {worst} for 6); {stopped} builds started by two hosts at once were stopped by the settle check");
        Assert.True(factor <= 1.05, $"build factor {factor:0.000}");
        Assert.True(stopped > 0, "no claims raced: the settle check was not exercised");
    }

    [Fact]
    public async Task A_seed_gives_one_run()
    {
        var conveyor = await ChainAsync();
        List<string> RunOnce()
        {
            var round = new Round(seed: 7, hosts: 5);
            foreach (var host in round.Hosts) round.Start(host, conveyor, TimeSpan.Zero, TimeSpan.FromSeconds(60));
            round.Run(TimeSpan.FromMinutes(10));
            return round.Log;
        }
        var first = RunOnce();
        Assert.NotEmpty(first);
        Assert.Equal(first, RunOnce());
    }

    [Fact]
    public async Task When_a_claim_holder_dies_its_claim_lapses_and_another_host_builds_the_stage()
    {
        var conveyor = await ChainAsync();
        var ttl = TimeSpan.FromSeconds(20);
        var round = new Round(seed: 3, hosts: 3);
        var (dying, others) = (round.Hosts[0], round.Hosts.Skip(1).ToList());
        round.Start(dying, conveyor, TimeSpan.Zero, ttl);
        // It dies in the middle of its third stage, holding that stage's claim; the others start meanwhile.
        round.Run(TimeSpan.FromMinutes(1), () => dying.Commits.Count == 2);
        foreach (var host in others) round.Start(host, conveyor, TimeSpan.FromMilliseconds(100), ttl);
        var killAt = round.Time.Elapsed + TimeSpan.FromMilliseconds(400);
        round.Run(TimeSpan.FromMinutes(1), () => round.Time.Elapsed >= killAt);
        dying.Context.Kill();
        round.Run(TimeSpan.FromMinutes(5));

        foreach (var host in others) Assert.True(round.Builds[host].IsCompletedSuccessfully, $"{host.Name}: {round.Builds[host].Exception?.InnerException?.Message}");
        round.AssertConsistent(conveyor, "after the holder died");
        var third = conveyor.Stages[2];
        Assert.Contains(others, h => h.Reporter.Stages.Any(s => s.Signature == third.Signature && s.State == Dapp.Reporting.StageState.Waiting));
        // Built once more by one of the others, once the claim expired (renewals stopped when the holder died).
        Assert.Equal(1, others.Sum(h => h.Commits.Count(c => c == third.Signature)));
        var built = round.Log.Single(l => l.Contains(" commit install ") && !l.Contains(dying.Name));
        Assert.True(double.Parse(built.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) >= (killAt + ttl / 2).TotalMilliseconds,
            $"built before the dead holder's claim could lapse: {built} (killed at {killAt.TotalMilliseconds:0} ms)");
    }

    [Fact]
    public async Task Without_claims_a_race_lost_mid_chain_has_the_later_stages_built_again_on_the_winner_s_copy()
    {
        var conveyor = await ChainAsync();
        var lostMidChain = 0;
        for (int seed = 1; seed <= 20; seed++)
        {
            var round = new Round(seed, hosts: 2);
            foreach (var host in round.Hosts) round.Start(host, conveyor, TimeSpan.Zero, TimeSpan.FromSeconds(60), claims: false);
            round.Run(TimeSpan.FromMinutes(10));
            foreach (var (host, build) in round.Builds) Assert.True(build.IsCompletedSuccessfully, $"seed {seed}: {host.Name}: {build.Exception?.InnerException?.Message}");
            round.AssertConsistent(conveyor, $"seed {seed}");
            if (round.Hosts.Any(h => h.Reporter.Lines.Any(l => l.Contains("first: building the stages after it again, on the published copy"))))
                lostMidChain++;
        }
        output.WriteLine($"{lostMidChain} of 20 rounds lost a race mid-chain");
        Assert.True(lostMidChain > 0, "no round lost a race mid-chain: the case was not exercised");
    }

    [Fact]
    public async Task A_registry_refusing_claim_writes_turns_claims_off_with_one_warning_and_the_result_is_the_same()
    {
        var conveyor = await ChainAsync();
        var round = new Round(seed: 5, hosts: 3);
        round.Registry.RefusesClaims = true;
        foreach (var host in round.Hosts) round.Start(host, conveyor, TimeSpan.Zero, TimeSpan.FromSeconds(60));
        round.Run(TimeSpan.FromMinutes(10));
        foreach (var (host, build) in round.Builds) Assert.True(build.IsCompletedSuccessfully, $"{host.Name}: {build.Exception?.InnerException?.Message}");
        round.AssertConsistent(conveyor, "claims refused");
        foreach (var host in round.Hosts)
            Assert.Single(host.Reporter.Lines, l => l.Contains("the registry refuses claims"));
    }

    [Fact]
    public async Task A_publication_failing_mid_chain_fails_the_build_leaves_the_registry_consistent_and_a_rerun_completes_it()
    {
        var conveyor = await ChainAsync();
        var round = new Round(seed: 9, hosts: 2);
        var (a, b) = (round.Hosts[0], round.Hosts[1]);
        a.FailPublicationOf = conveyor.Stages[3].Signature;
        round.Start(a, conveyor, TimeSpan.Zero, TimeSpan.FromSeconds(60));
        round.Run(TimeSpan.FromMinutes(10));
        var failed = Assert.IsType<DappException>(round.Builds[a].Exception?.InnerException);
        Assert.Contains("connection reset by the registry", failed.Message);
        Assert.Equal(3, conveyor.Stages.Count(s => round.Registry.Stages.ContainsKey(s.Signature)));
        Assert.DoesNotContain(conveyor.Stages[3].Signature, round.Registry.Stages.Keys);

        round.Start(a, conveyor, TimeSpan.Zero, TimeSpan.FromSeconds(60));
        round.Run(TimeSpan.FromMinutes(10));
        Assert.True(round.Builds[a].IsCompletedSuccessfully, round.Builds[a].Exception?.InnerException?.Message);
        round.AssertConsistent(conveyor, "after the rerun");
        Assert.Equal(6, a.Commits.Count);

        round.Start(b, conveyor, TimeSpan.Zero, TimeSpan.FromSeconds(60));
        round.Run(TimeSpan.FromMinutes(10));
        Assert.True(round.Builds[b].IsCompletedSuccessfully, round.Builds[b].Exception?.InnerException?.Message);
        Assert.Empty(b.Commits);
    }
}

/// <summary>The second half of <see cref="DistributedSimulationTests.Ten_hosts_racing_on_a_six_stage_chain_build_each_stage_about_once"/>'s seeds.</summary>
public class DistributedSimulationRaceTests(ITestOutputHelper output)
{
    [Fact]
    public Task Ten_hosts_racing_on_a_six_stage_chain_build_each_stage_about_once_seeds_51_to_100() => DistributedSimulationTests.RaceAsync(51, 100, output);
}
