using Dapp.Build;
using Dapp.Commands;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Tests.Unit.Fakes;

namespace Dapp.Tests.Unit;

/// <summary>
/// Chains that do not depend on each other build at once (--jobs), on the engine in memory: containers held running
/// by the test show what runs beside what. The same behaviours run through the CLI on the real engine in
/// Integration/ParallelBuildTests.
/// </summary>
public sealed class ParallelBuildTests : IDisposable
{
    private const string Wide = """
        artifact: shared
        from: base:1
        shell:
          install: [echo shared-install]
        ---
        dimg: a
        from: base:1
        import:
        - {artifact: shared, add: /out, to: /opt/out, before: setup}
        shell:
          install: [echo a-install]
          setup: [echo a-setup]
        ---
        dimg: b
        from: base:1
        import:
        - {artifact: shared, add: /out, to: /opt/out, before: setup}
        shell:
          install: [echo b-install]
          setup: [echo b-setup]
        ---
        dimg: c
        from: base:1
        shell:
          install: [echo c-install]
          setup: [echo c-setup]
        ---
        dimg: d
        from: base:1
        shell:
          install: [echo d-install]
          setup: [echo d-setup]
        """;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly string _dir = Directory.CreateTempSubdirectory("dapp-parallel-").FullName;
    private readonly string _name = "par-" + Guid.NewGuid().ToString("N")[..10];

    public ParallelBuildTests() => File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), Wide);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static FakeEngine NewEngine()
    {
        var engine = new FakeEngine();
        engine.AddImage("base:1", env: ["PATH=/bin"]);
        engine.Run = c => (c.Script.Split(" && ").Where(command => command.StartsWith("echo ", StringComparison.Ordinal)).Select(command => command[5..]).ToList(),
            c.Script.Contains("exit 3", StringComparison.Ordinal) ? 3 : 0);
        return engine;
    }

    private async Task<RecordingReporter> BuildAsync(FakeEngine engine, int jobs, CancellationToken ct = default, RecordingReporter? reporter = null)
    {
        using var project = await LoadAsync(engine);
        reporter ??= new RecordingReporter();
        await BuildCommand.RunAsync(project, [], new BuildOptions { Jobs = jobs, LockTimeout = Patience }, StagesStorageOption.Local, reporter, ct);
        return reporter;
    }

    private Task<DappProject> LoadAsync(FakeEngine engine) =>
        DappProject.LoadAsync(new ProjectOptions { Dir = _dir, Name = _name, BuildDir = Path.Combine(_dir, ".build"), Engine = () => engine }, default);

    private static string Command(FakeContainer container) =>
        container.Script.Split(" && ").FirstOrDefault(c => c.StartsWith("echo ", StringComparison.Ordinal))?[5..] ?? "";

    [Fact]
    public async Task Four_jobs_run_four_chains_at_once_and_build_the_same_stages_as_one_job_each_once()
    {
        var parallel = NewEngine();
        var running = 0;
        var fourAtOnce = false;
        var firstWave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        parallel.WhileRunning = async (_, ct) =>
        {
            if (Interlocked.Increment(ref running) == 4)
            {
                fourAtOnce = true;
                firstWave.TrySetResult();
            }
            // The first containers wait for each other: one after another, the fourth never comes, and after the patience none waits.
            if (await Task.WhenAny(firstWave.Task, Task.Delay(Patience, ct)) != firstWave.Task) firstWave.TrySetResult();
            Interlocked.Decrement(ref running);
        };
        var inParallel = await BuildAsync(parallel, jobs: 4);
        Assert.True(fourAtOnce, "4 containers never ran at once with --jobs 4");

        var serial = NewEngine();
        var most = 0;
        serial.WhileRunning = async (_, ct) =>
        {
            var now = Interlocked.Increment(ref running);
            lock (serial) most = Math.Max(most, now);
            await Task.Delay(20, ct);
            Interlocked.Decrement(ref running);
        };
        var oneByOne = await BuildAsync(serial, jobs: 1);
        Assert.Equal(1, most);

        // Signatures only: a stage chains share (from) is built by whichever chain comes to it first.
        static List<string> Built(RecordingReporter r) =>
            r.Stages.Where(s => s.State == StageState.Build).Select(s => s.Signature).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Built(oneByOne), Built(inParallel));
        // Each stage built once: the artifact two dimgs import too.
        Assert.Equal(Built(inParallel).Count, Built(inParallel).Distinct().Count());
        Assert.Single(inParallel.Stages, s => s.Image == "artifact shared" && s.Stage == "install");
        Assert.Equal(Built(inParallel).Count, parallel.Calls.Count(c => c.StartsWith("commit dimgstage-", StringComparison.Ordinal)));
        Assert.Empty(parallel.Containers);

        // Within a chain, lines keep the chain's order: its stages in order, a stage's output before the next stage's.
        using var project = await LoadAsync(parallel);
        foreach (var conveyor in Conveyor.WithDependencies(await project.SelectConveyorsAsync([], default)))
            Assert.Equal(conveyor.Stages.Select(s => s.Name.DappName()),
                inParallel.Stages.Where(s => s.Image == conveyor.Image.DisplayName).Select(s => s.Stage));
        foreach (var dimg in new[] { "a", "b", "c", "d" })
            Assert.Equal([$"{dimg}-install", $"{dimg}-setup"], inParallel.Lines.Where(l => l.StartsWith(dimg + "-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_artifact_imported_before_setup_builds_beside_the_install_of_the_dimg_that_imports_it()
    {
        var engine = NewEngine();
        var sharedStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var besideIt = false;
        engine.OnStart = c =>
        {
            if (Command(c) == "shared-install") sharedStarted.TrySetResult();
        };
        engine.WhileRunning = async (c, ct) =>
        {
            // a's install runs until the artifact's install starts: it does only if a's chain did not wait for the artifact before its install.
            if (Command(c) == "a-install")
                besideIt = await Task.WhenAny(sharedStarted.Task, Task.Delay(Patience, ct)) == sharedStarted.Task;
        };
        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), Wide.Split("---\n")[0] + "---\n" + Wide.Split("---\n")[1]);

        var reporter = await BuildAsync(engine, jobs: 4);

        Assert.True(besideIt, "a's install waited for the artifact it imports only before setup");
        Assert.Equal(["from", "install", "before_setup_artifact", "setup"], reporter.Stages.Where(s => s.Image == "a").Select(s => s.Stage));
    }

    [Fact]
    public async Task The_chains_others_wait_for_take_the_first_slots()
    {
        var engine = NewEngine();
        var started = new List<string>();
        engine.OnStart = c =>
        {
            lock (started) started.Add(Command(c));
        };

        await BuildAsync(engine, jobs: 2);

        // With 2 slots, the artifact two dimgs import builds at once with the first dimg, not after two dimgs' installs.
        Assert.Contains("shared-install", started.Take(2));
    }

    [Fact]
    public async Task A_failing_chain_lets_the_others_finish_the_stage_they_are_in_and_start_nothing_new()
    {
        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), Wide.Replace("echo c-install", "exit 3"));
        var engine = NewEngine();
        var cContainer = "";
        var started = new List<string>();
        engine.OnStart = c =>
        {
            if (c.Script.Contains("exit 3", StringComparison.Ordinal)) cContainer = c.Id;
            lock (started) started.Add(Command(c));
        };
        bool Started(string command)
        {
            lock (started) return started.Contains(command);
        }
        engine.WhileRunning = async (c, ct) =>
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            // c fails once a and b are in their install (the chains that got the first slots with it and the artifact)...
            if (c.Id == cContainer)
                while (!(Started("a-install") && Started("b-install")) && waited.Elapsed < Patience) await Task.Delay(10, ct);
            // ...which run on until c's failed stage is gone and its failure has had time to reach the build.
            if (Command(c) is "b-install" or "d-install" or "a-install")
            {
                while ((cContainer == "" || engine.Containers.Any(x => x.Id == cContainer)) && waited.Elapsed < Patience) await Task.Delay(10, ct);
                await Task.Delay(500, ct);
            }
        };

        var e = await Assert.ThrowsAsync<StageFailedException>(() => BuildAsync(engine, jobs: 4));

        Assert.Equal("c: stage install failed: a command exited with code 3", e.Message);
        Assert.Empty(engine.Containers);
        using var project = await LoadAsync(engine);
        var conveyors = Conveyor.WithDependencies(await project.SelectConveyorsAsync([], default));
        // With 4 slots for 5 chains, a chain may have been waiting for a slot when c failed: it started nothing.
        var inStage = conveyors.Where(c => c.Image.Name is not "c" && started.Contains($"{c.Image.Name}-install")).ToList();
        Assert.True(inStage.Count >= 2, $"only {inStage.Count} other chain(s) were building when c failed");
        foreach (var chain in conveyors.Where(c => c.Image.Name is not "c"))
        {
            var install = project.Stages.ImageName(chain.SignatureOf(StageName.Install));
            // The install each was building is tagged; nothing was built on it.
            Assert.Equal(inStage.Contains(chain), engine.Image(install) is not null);
            Assert.DoesNotContain($"create {install}", engine.Calls);
        }
        Assert.DoesNotContain(started, c => c.EndsWith("-setup", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_chain_waiting_for_another_process_s_lock_stops_waiting_when_another_chain_fails()
    {
        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), """
            dimg: a
            from: base:1
            shell:
              install: [exit 3]
            ---
            dimg: b
            from: base:1
            shell:
              install: [echo b-install]
            """);
        var engine = NewEngine();
        string bInstall;
        using (var project = await LoadAsync(engine))
            bInstall = (await project.SelectConveyorsAsync(["b"], default))[0].SignatureOf(StageName.Install);
        // Another dapp process of this host is building b's install.
        using var held = HostLock.TryAcquire($"{_name}.{bInstall}") ?? throw new InvalidOperationException("the lock is taken");
        var reporter = new RecordingReporter();
        engine.WhileRunning = async (c, ct) =>
        {
            // a fails once b waits for that lock.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!reporter.Lines.Any(l => l.StartsWith("b: waiting for another dapp process", StringComparison.Ordinal)) && waited.Elapsed < Patience)
                await Task.Delay(10, ct);
        };

        var e = await Assert.ThrowsAsync<StageFailedException>(() => BuildAsync(engine, jobs: 2, reporter: reporter));

        Assert.Equal("a: stage install failed: a command exited with code 3", e.Message);
        Assert.Contains(reporter.Lines, l => l.StartsWith("b: waiting for another dapp process", StringComparison.Ordinal));
        // b stopped waiting (its wait would have ended in a timeout after --lock-timeout, a second failure).
        Assert.DoesNotContain(reporter.Lines, l => l.Contains("another chain failed too", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancelling_a_parallel_build_stops_every_chain_and_leaves_no_container()
    {
        var engine = NewEngine();
        using var cancel = new CancellationTokenSource();
        // Three never running at once, the build is cancelled anyway (and the check below fails).
        cancel.CancelAfter(Patience);
        var running = 0;
        var threeAtOnce = false;
        engine.WhileRunning = async (_, ct) =>
        {
            if (Interlocked.Increment(ref running) == 3)
            {
                threeAtOnce = true;
                await cancel.CancelAsync();
            }
            await Task.Delay(Patience, ct);
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => BuildAsync(engine, jobs: 4, cancel.Token));

        // A fourth container may have started as the cancellation went out: what counts is that it came from three at once.
        Assert.True(threeAtOnce, "the build was cancelled before three containers ran at once");
        Assert.Empty(engine.Containers);
        using var project = await LoadAsync(engine);
        foreach (var chain in Conveyor.WithDependencies(await project.SelectConveyorsAsync([], default)))
            Assert.DoesNotContain($"commit {project.Stages.ImageName(chain.SignatureOf(StageName.Install))}", engine.Calls);
    }
}

/// <summary>The scheduling of chains on their own: slots, waits that give the slot back, the stop after a failure.</summary>
public sealed class ChainJobsTests
{
    private static readonly Conveyor[] Chains = ConveyorsForTests(4);

    private static Conveyor[] ConveyorsForTests(int count)
    {
        var dir = Directory.CreateTempSubdirectory("dapp-jobs-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "dappfile.yml"),
                string.Join("---\n", Enumerable.Range(0, count).Select(i => $"dimg: d{i}\nfrom: base:1\nshell:\n  install: [echo {i}]\n")));
            var engine = new FakeEngine();
            using var project = DappProject.LoadAsync(new ProjectOptions { Dir = dir, Name = "jobs", Engine = () => engine }, default).GetAwaiter().GetResult();
            return project.SelectConveyorsAsync([], default).GetAwaiter().GetResult().ToArray();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task At_most_jobs_chains_work_at_once_and_a_chain_waiting_for_another_gives_its_slot_back()
    {
        var jobs = new ChainJobs(2);
        var working = 0;
        var most = 0;
        async Task WorkAsync()
        {
            var now = Interlocked.Increment(ref working);
            InterlockedMax(ref most, now);
            await Task.Delay(30);
            Interlocked.Decrement(ref working);
        }
        // Chains 0 and 1 each wait for another chain while holding a slot: with the slot kept, 2 and 3 would never run.
        _ = jobs.Start(Chains[0], async (slot, ct) => { await WorkAsync(); await slot.WhileWaitingAsync(() => jobs.Start(Chains[2], async (_, _) => await WorkAsync(), ct), ct); }, default);
        _ = jobs.Start(Chains[1], async (slot, ct) => { await WorkAsync(); await slot.WhileWaitingAsync(() => jobs.Start(Chains[3], async (_, _) => await WorkAsync(), ct), ct); }, default);

        var all = jobs.WaitAllAsync(_ => { }, default);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(10))));
        await all;
        Assert.Equal(2, most);
    }

    [Fact]
    public async Task After_a_failure_chains_not_yet_started_start_nothing_and_the_build_fails_with_the_first_error()
    {
        var jobs = new ChainJobs(1);
        var ran = new List<int>();
        var others = new List<string>();
        var release = new TaskCompletionSource();
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = jobs.Start(Chains[0], async (_, _) => { holding.SetResult(); await release.Task; throw new DappException("d0: stage install failed"); }, default);
        // Chain 0 holds the one slot: 1 and 2 wait for it.
        await holding.Task;
        _ = jobs.Start(Chains[1], (_, _) => { lock (ran) ran.Add(1); return Task.CompletedTask; }, default);
        _ = jobs.Start(Chains[2], (_, _) => { lock (ran) ran.Add(2); return Task.CompletedTask; }, default);
        release.SetResult();

        var e = await Assert.ThrowsAsync<DappException>(() => jobs.WaitAllAsync(others.Add, default));
        Assert.Equal("d0: stage install failed", e.Message);
        Assert.Empty(ran);
        Assert.Empty(others);
        Assert.True(jobs.Stopping);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
