using System.Diagnostics;
using Dapp.Build;
using Dapp.Reporting;
using Dapp.Storage;
using Dapp.Engine;

namespace Dapp.Tests.Integration;

/// <summary>
/// SIGKILL at a random moment, ten times each, of stages push, stages pull and build: no tag (local or in the
/// registry) ever names an incomplete or wrong image, the rerun completes the work, and nothing is left behind.
/// Also: two pulls (and two pushes) of one project at once on one engine, and Ctrl-C on a busy machine.
/// </summary>
[Collection(TransferCollection.Name)]
public class KillSafetyTests : IAsyncLifetime
{
    private readonly string _repo = $"127.0.0.1:5000/kills/{Guid.NewGuid():N}";
    private readonly Random _random = new();

    public Task InitializeAsync() => SecondEngine.EnsureUpAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Stages big enough (a few MiB each) that a random moment falls inside a transfer.</summary>
    private static string Dappfile(string marker) => $"""
        artifact: tools
        from: {EngineFixture.BaseImage}
        shell:
          install: mkdir -p /out && head -c 3000000 /dev/urandom > /out/tool && echo {marker} > /out/marker
        ---
        dimg: app
        from: {EngineFixture.BaseImage}
        import:
        - {"{"}artifact: tools, add: /out, to: /opt/tools, after: install{"}"}
        shell:
          beforeInstall: head -c 3000000 /dev/urandom > /before
          install: head -c 3000000 /dev/urandom > /data
          setup: echo {marker} > /ready
        """;

    private static async Task KillAtAsync(Process process, int milliseconds)
    {
        await Task.Delay(milliseconds);
        process.Kill();
        await process.WaitForExitAsync();
    }

    /// <summary>Every local stage name of the project names an image built for that signature.</summary>
    private static async Task AssertLocalStagesRightAsync(Dapp.Commands.DappProject project, string context)
    {
        foreach (var image in await project.Stages.ListAsync(default))
            foreach (var tag in image.RepoTags.Where(t => t.StartsWith(project.Stages.Repository + ":", StringComparison.Ordinal)))
            {
                var inspected = await project.Engine.InspectImageAsync(tag, default);
                Assert.True((inspected?.Config?.Labels is { } labels && labels.TryGetValue(DappLabels.StageSignature, out var signature) ? signature : null) == tag.Split(':')[1], $"{context}: {tag} names another stage's image");
            }
    }

    [Fact]
    public async Task Stages_push_killed_at_random_moments_leaves_only_complete_stage_tags_and_reruns_complete_it()
    {
        await using var test = new TestProject(Dappfile(Guid.NewGuid().ToString("N")));
        await test.BuildAsync();
        using var project = await test.LoadAsync();
        var stages = DappProjectStages(project);
        for (int i = 0; i < 10; i++)
        {
            var repo = $"{_repo}-push-{i}";
            var moment = _random.Next(0, 2500);
            using (var process = DappCli.Start(test.Dir, new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir }, "dimg", "stages", "push", repo, "--name", test.Name))
                await KillAtAsync(process, moment);
            await StageTags.AssertCompleteAsync(repo, $"killed at {moment} ms");
            // No tag but the stages' own, killed or not (no scratch upload tag).
            using (var client = new Dapp.Registry.Remote.RegistryClient())
                Assert.All(await Dapp.Storage.RegistryStagesStorage.ListTagsAsync(new Dapp.Registry.Remote.RemoteRepository(client, Dapp.Registry.Names.RepositoryName.Parse(repo)), default),
                    t => Assert.StartsWith(Dapp.Storage.RegistryStagesStorage.TagPrefix, t));
            var rerun = await DappCli.RunAsync(test, "dimg", "stages", "push", repo);
            Assert.True(rerun.ExitCode == 0, rerun.Stderr);
            Assert.Equal((await stages).Count, await StageTags.AssertCompleteAsync(repo, $"rerun after a kill at {moment} ms"));
        }
        // The reruns removed the push names the killed processes left in the engine.
        var names = await DockerCli.RunAsync("images", "--format", "{{.Repository}}:{{.Tag}}");
        Assert.DoesNotContain(names.StdoutLines, n => n.StartsWith(_repo, StringComparison.Ordinal));
    }

    private static async Task<IReadOnlySet<string>> DappProjectStages(Dapp.Commands.DappProject project) =>
        (await project.SelectConveyorsAsync([], default)).SelectMany(c => Dapp.Stages.Conveyor.WithDependencies([c]))
            .SelectMany(c => c.Stages).Select(s => s.Signature).ToHashSet();

    [Fact]
    public async Task Stages_pull_killed_at_random_moments_on_a_fresh_engine_leaves_only_right_stages_and_a_rerun_completes_it()
    {
        await using var test = new TestProject(Dappfile(Guid.NewGuid().ToString("N")));
        await test.BuildAsync();
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "stages", "push", _repo)).ExitCode);
        test.AlsoUsed.Add((SecondEngine.Host, test.Name));
        using var b = await test.LoadAsync(SecondEngine.Host);
        for (int i = 0; i < 10; i++)
        {
            await b.Stages.FlushAsync(default);
            var moment = _random.Next(0, 2500);
            using (var process = DappCli.Start(test.Dir, SecondEngine.Environment(test), "dimg", "stages", "pull", _repo, "--name", test.Name))
                await KillAtAsync(process, moment);
            await AssertLocalStagesRightAsync(b, $"killed at {moment} ms");
            var rerun = await DappCli.RunAsync(test.Dir, SecondEngine.Environment(test), "dimg", "stages", "pull", _repo, "--name", test.Name);
            Assert.True(rerun.ExitCode == 0, $"rerun after a kill at {moment} ms: {rerun.Stderr}");
            await AssertLocalStagesRightAsync(b, $"rerun after a kill at {moment} ms");
            var build = await test.BuildOnAsync(SecondEngine.Host, null);
            Assert.DoesNotContain(build.Stages, s => s.State == StageState.Build);
        }
        var leftovers = await DockerCli.RunAsync("-H", SecondEngine.Host, "images", "--format", "{{.Repository}}:{{.Tag}}");
        Assert.DoesNotContain(leftovers.StdoutLines, n => n.StartsWith(_repo, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Build_killed_at_random_moments_leaves_no_container_after_the_rerun_and_no_wrong_stage()
    {
        var marker = Guid.NewGuid().ToString("N");
        await using var test = new TestProject(Dappfile(marker).Replace("setup: echo", "setup: sleep 1 && echo"));
        using var project = await test.LoadAsync();
        var prefix = $"{DappContainers.Prefix}{test.Name}.";
        for (int i = 0; i < 10; i++)
        {
            await project.Stages.FlushAsync(default);
            var moment = _random.Next(300, 4000);
            using (var process = DappCli.Start(test.Dir, new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir }, "dimg", "build", "--name", test.Name))
                await KillAtAsync(process, moment);
            await AssertLocalStagesRightAsync(project, $"killed at {moment} ms");
            if (i == 0 && (await DockerCli.ContainerNamesAsync(prefix)).Count > 0)
            {
                // What a kill leaves, cleanup lists.
                var listed = await DappCli.RunAsync(test, "dimg", "cleanup", "--dry-run");
                Assert.Contains("would remove leftover container " + prefix, listed.Stdout + listed.Stderr);
            }
            var rerun = await DappCli.RunAsync(test, "dimg", "build");
            Assert.True(rerun.ExitCode == 0, $"rerun after a kill at {moment} ms: {rerun.Stderr}");
            Assert.Empty(await DockerCli.ContainerNamesAsync(prefix));
            await AssertLocalStagesRightAsync(project, $"rerun after a kill at {moment} ms");
        }
        var app = (await project.SelectConveyorsAsync(["app"], default))[0];
        Assert.Equal(marker + "\n" + marker, await DockerCli.ShellAsync(project.Stages.ImageName(app.LastSignature), "cat /ready /opt/tools/marker"));
    }

    [Fact]
    public async Task Two_pulls_and_two_pushes_of_one_project_at_once_on_one_engine_all_succeed()
    {
        await using var test = new TestProject(Dappfile(Guid.NewGuid().ToString("N")));
        await test.BuildAsync();
        for (int round = 0; round < 5; round++)
        {
            var repo = $"{_repo}-twice-{round}";
            var pushes = await Task.WhenAll(DappCli.RunAsync(test, "dimg", "stages", "push", repo), DappCli.RunAsync(test, "dimg", "stages", "push", repo));
            Assert.All(pushes, p => Assert.True(p.ExitCode == 0, $"round {round}: {p.Stderr}"));
        }
        test.AlsoUsed.Add((SecondEngine.Host, test.Name));
        using var b = await test.LoadAsync(SecondEngine.Host);
        var expected = (await b.SelectConveyorsAsync([], default)).Select(c => c.LastSignature)
            .Append((await b.Conveyors.ForAsync(b.Dappfile.FindArtifact("tools")!, default)).LastSignature).Order().ToList();
        for (int round = 0; round < 20; round++)
        {
            await b.Stages.FlushAsync(default);
            var pulls = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
                DappCli.RunAsync(test.Dir, SecondEngine.Environment(test), "dimg", "stages", "pull", $"{_repo}-twice-0", "--name", test.Name)));
            Assert.All(pulls, p => Assert.True(p.ExitCode == 0, $"round {round}: {p.Stderr}"));
            Assert.Equal(expected, (await b.Stages.ListAsync(default)).SelectMany(s => s.RepoTags).Select(t => t.Split(':')[1]).Order());
        }
    }

    [Fact]
    public async Task Ctrl_c_on_a_busy_machine_exits_130_within_15_s_and_removes_the_container()
    {
        await using var test = new TestProject($"dimg: long\nfrom: {EngineFixture.BaseImage}\nshell:\n  install: echo started && sleep 60\n");
        using var stop = new CancellationTokenSource();
        // Both cores busy, as in a full test run with other jobs on the host.
        var load = Enumerable.Range(0, 2 * Environment.ProcessorCount).Select(_ => Task.Run(() => { while (!stop.IsCancellationRequested) { } })).ToList();
        try
        {
            using var process = DappCli.Start(test.Dir, new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir }, "dimg", "build", "--name", test.Name);
            while (await process.StandardOutput.ReadLineAsync() is { } line && !line.Contains("started")) { }
            Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
            var clock = Stopwatch.StartNew();
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await process.WaitForExitAsync(limit.Token);
            Assert.Equal(130, process.ExitCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(load);
        }
        Assert.Empty(await DockerCli.ContainerNamesAsync($"{DappContainers.Prefix}{test.Name}."));
    }
}
