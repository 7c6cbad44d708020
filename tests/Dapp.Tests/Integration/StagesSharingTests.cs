using Dapp.Commands;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Tests.Integration.Registry;

namespace Dapp.Tests.Integration;

/// <summary>The seed's workflow on two real engines (hosts A and B) and the real registry.</summary>
[Collection(TransferCollection.Name)]
public class StagesSharingTests : IAsyncLifetime
{
    private readonly string _marker = Guid.NewGuid().ToString("N")[..12];
    private readonly string _repo = $"127.0.0.1:5000/sharing/{Guid.NewGuid():N}";

    public Task InitializeAsync() => SecondEngine.EnsureUpAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    private string Dappfile(string setup = "setup-1") => SharedDappfiles.ApiWebAndBuilder(_marker, setup);

    /// <summary>Host B runs the CLI under <paramref name="name"/> (default: the same project name as A).</summary>
    private static async Task<CliResult> OnB(TestProject test, string? name, params string[] args)
    {
        name ??= test.Name;
        if (!test.AlsoUsed.Contains((SecondEngine.Host, name))) test.AlsoUsed.Add((SecondEngine.Host, name));
        var result = await DappCli.RunAsync(test.Dir, SecondEngine.Environment(test), [.. args, "--name", name]);
        return result;
    }

    private static List<string> Lines(CliResult result, string state) => result.StdoutLines.Where(l => l.EndsWith(state)).ToList();

    private static string SignatureOf(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^2];

    [Fact]
    public async Task Host_B_pulls_one_stage_per_dimg_and_artifact_then_builds_nothing_and_every_pushed_stage_runs()
    {
        await using var test = new TestProject(Dappfile());
        await test.BuildAsync();
        var push = await DappCli.RunAsync(test, "dimg", "push", "--with-stages", _repo);
        Assert.True(push.ExitCode == 0, push.Stderr);
        var pushedStages = Lines(push, "[PUSH]").Where(l => !l.Contains(_repo)).Select(SignatureOf).Distinct().ToList();

        var pull = await OnB(test, null, "dimg", "stages", "pull", _repo);
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        using var a = await test.LoadAsync();
        var conveyors = new[] { (await a.Conveyors.ForAsync(a.Dappfile.FindDimg("api")!, default)), (await a.Conveyors.ForAsync(a.Dappfile.FindDimg("web")!, default)), (await a.Conveyors.ForAsync(a.Dappfile.FindArtifact("builder")!, default)) };
        Assert.Equal(conveyors.Select(c => c.LastSignature).Order(), Lines(pull, "[PULL]").Select(SignatureOf).Order());
        Assert.Matches(@"pulled 3 stage\(s\), [0-9.]+ (B|KiB|MiB), from 127\.0\.0\.1:5000/", pull.Stdout);

        using var b = await test.LoadAsync(SecondEngine.Host);
        Assert.Equal(conveyors.Select(c => c.LastSignature).Order(),
            (await b.Stages.ListAsync(default)).SelectMany(i => i.RepoTags).Select(t => t.Split(':')[1]).Order());
        Assert.Empty((await DockerCli.RunAsync("-H", SecondEngine.Host, "images", "--format", "{{.Repository}}", _repo)).StdoutLines);

        var build = await test.BuildOnAsync(SecondEngine.Host, null);
        Assert.DoesNotContain(build.Stages, s => s.State == StageState.Build);
        // The dimgs' chains are walked at once (--jobs): their lines in any order.
        Assert.Equal(["api", "web"], build.Stages.Where(s => s.State == StageState.UsingCache).Select(s => s.Image).Order());
        Assert.All(build.Stages.Where(s => s.State != StageState.UsingCache), s => Assert.Equal(StageState.NotPresent, s.State));

        foreach (var signature in pushedStages)
        {
            var image = $"{_repo}:dimgstage-{signature}";
            var pulled = await DockerCli.RunAsync("-H", SecondEngine.Host, "pull", image);
            Assert.True(pulled.ExitCode == 0, pulled.Stderr);
            var run = await DockerCli.RunAsync("-H", SecondEngine.Host, "run", "--rm", "--network=none", "--entrypoint", "/bin/sh", image, "-c", "test -x /bin/busybox && echo ok");
            Assert.Equal("ok", run.Stdout.Trim());
            await DockerCli.RunAsync("-H", SecondEngine.Host, "rmi", image);
        }
        Assert.Equal("setup-1", (await DockerCli.RunAsync("-H", SecondEngine.Host, "run", "--rm", "--network=none", b.Stages.ImageName(conveyors[0].LastSignature))).Stdout.Trim());
    }

    [Fact]
    public async Task The_load_transfer_path_gives_the_same_stages_sending_only_the_layers_the_engine_lacks()
    {
        await using var test = new TestProject(Dappfile());
        await test.BuildAsync();
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "stages", "push", _repo)).ExitCode);

        var pull = await OnB(test, null, "dimg", "stages", "pull", _repo, "--transfer", "load");
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        Assert.Equal(3, Lines(pull, "[PULL]").Count);
        using var b = await test.LoadAsync(SecondEngine.Host);
        var expected = (await b.SelectConveyorsAsync([], default)).Select(c => c.LastSignature)
            .Append((await b.Conveyors.ForAsync(b.Dappfile.FindArtifact("builder")!, default)).LastSignature).Order().ToList();
        Assert.Equal(expected, (await b.Stages.ListAsync(default)).SelectMany(i => i.RepoTags).Select(t => t.Split(':')[1]).Order());
        Assert.Empty((await DockerCli.RunAsync("-H", SecondEngine.Host, "images", "--format", "{{.Repository}}", _repo)).StdoutLines);
        var build = await test.BuildOnAsync(SecondEngine.Host, null);
        Assert.DoesNotContain(build.Stages, s => s.State == StageState.Build);
        var api = (await b.SelectConveyorsAsync(["api"], default))[0];
        Assert.Equal("setup-1", (await DockerCli.RunAsync("-H", SecondEngine.Host, "run", "--rm", "--network=none", b.Stages.ImageName(api.LastSignature))).Stdout.Trim());
        // The same content as the engine's own pull: the image IDs are the config digests.
        using var a = await test.LoadAsync();
        Assert.Equal((await a.Stages.InspectAsync(api.LastSignature, default))!.ID, (await b.Stages.InspectAsync(api.LastSignature, default))!.ID);
    }

    [Fact]
    public async Task After_a_setup_change_B_pulls_the_last_common_stage_and_rebuilds_only_from_setup()
    {
        await using var test = new TestProject(Dappfile());
        await test.BuildAsync();
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "stages", "push", _repo)).ExitCode);

        test.WriteDappfile(Dappfile(setup: "setup-2"));
        var pull = await OnB(test, null, "dimg", "stages", "pull", "api", _repo);
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        using var b = await test.LoadAsync(SecondEngine.Host);
        var api = (await b.Conveyors.ForAsync(b.Dappfile.FindDimg("api")!, default));
        // api's last common stage, and the artifact api imports (its chain did not change).
        Assert.Equal([api.SignatureOf(StageName.AfterInstallArtifact), (await b.Conveyors.ForAsync(b.Dappfile.FindArtifact("builder")!, default)).LastSignature],
            Lines(pull, "[PULL]").Select(SignatureOf));
        Assert.Equal(2, Lines(pull, "[NOT EXIST]").Count);

        var build = await test.BuildOnAsync(SecondEngine.Host, null, "api");
        Assert.Equal(["setup", "docker_instructions"], build.Stages.Where(s => s.State == StageState.Build).Select(s => s.Stage));
        Assert.Equal("setup-2", (await DockerCli.RunAsync("-H", SecondEngine.Host, "run", "--rm", "--network=none", b.Stages.ImageName(api.LastSignature))).Stdout.Trim());
    }

    [Fact]
    public async Task All_pulls_every_stage_patterns_restrict_and_another_project_name_reuses_the_stages()
    {
        await using var test = new TestProject(Dappfile());
        await test.BuildAsync();
        var push = await DappCli.RunAsync(test, "dimg", "stages", "push", _repo);
        Assert.True(push.ExitCode == 0, push.Stderr);
        var allStages = Lines(push, "[PUSH]").Select(SignatureOf).Distinct().Order().ToList();

        var onlyWeb = await OnB(test, "web-only-" + _marker, "dimg", "stages", "pull", "w*", _repo);
        Assert.True(onlyWeb.ExitCode == 0, onlyWeb.Stderr);
        Assert.Single(Lines(onlyWeb, "[PULL]"));
        Assert.All(onlyWeb.StdoutLines.Where(l => l.Contains('[')), l => Assert.StartsWith("web", l));

        var other = "other-" + _marker;
        var all = await OnB(test, other, "dimg", "stages", "pull", "--all", _repo);
        Assert.True(all.ExitCode == 0, all.Stderr);
        Assert.Equal(allStages, Lines(all, "[PULL]").Select(SignatureOf).Distinct().Order());
        using var b = await test.LoadAsync(SecondEngine.Host, other);
        Assert.Equal(allStages, (await b.Stages.ListAsync(default)).SelectMany(i => i.RepoTags).Select(t => t.Split(':')[1]).Order());
        Assert.All((await b.Stages.ListAsync(default)).SelectMany(i => i.RepoTags), t => Assert.StartsWith($"dimgstage-{other}:", t));

        var again = await OnB(test, other, "dimg", "stages", "pull", _repo);
        Assert.Empty(Lines(again, "[PULL]"));
        var build = await test.BuildOnAsync(SecondEngine.Host, other);
        Assert.All(build.Stages, s => Assert.Equal(StageState.UsingCache, s.State));
    }

    [Fact]
    public async Task A_second_stages_push_is_all_exist_and_an_unchanged_dimg_tag_is_exist()
    {
        await using var test = new TestProject(Dappfile());
        await test.BuildAsync();
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "stages", "push", _repo)).ExitCode);
        var second = await DappCli.RunAsync(test, "dimg", "stages", "push", _repo);
        Assert.Empty(Lines(second, "[PUSH]"));
        Assert.Equal(10, Lines(second, "[EXIST]").Count);
        Assert.Contains("pushed 0 stage(s)", second.Stdout);

        var push = await DappCli.RunAsync(test, "dimg", "push", _repo, "--tag", "v1");
        Assert.Equal(2, Lines(push, "[PUSH]").Count);
        var unchanged = await DappCli.RunAsync(test, "dimg", "push", _repo, "--tag", "v1");
        Assert.Equal(2, Lines(unchanged, "[EXIST]").Count);
        Assert.Empty(Lines(unchanged, "[PUSH]"));
        var pulled = await DockerCli.RunAsync("-H", SecondEngine.Host, "pull", $"{_repo}/api:v1");
        Assert.True(pulled.ExitCode == 0, pulled.Stderr);
        var labels = await DockerCli.RunAsync("-H", SecondEngine.Host, "inspect", "--format", "{{index .Config.Labels \"dapp-dimg\"}} {{index .Config.Labels \"dapp-tag-scheme\"}}", $"{_repo}/api:v1");
        Assert.Equal("true custom", labels.Stdout.Trim());
        await DockerCli.RunAsync("-H", SecondEngine.Host, "rmi", $"{_repo}/api:v1");
        Assert.Empty((await DockerCli.RunAsync("images", "--format", "{{.Repository}}", $"{_repo}/api")).StdoutLines);
    }

    [Fact]
    public async Task Spush_bp_and_flush_repo()
    {
        await using var test = new TestProject(Dappfile());
        var notBuilt = await DappCli.RunAsync(test, "dimg", "push", _repo);
        Assert.Equal(1, notBuilt.ExitCode);
        Assert.Contains("Dimg hasn't been built yet", notBuilt.Stderr);

        var bp = await DappCli.RunAsync(test, "dimg", "bp", "--with-stages", _repo, "--tag-plain", "release");
        Assert.True(bp.ExitCode == 0, bp.Stderr);
        Assert.NotEmpty(Lines(bp, "[BUILD]"));
        var ambiguous = await DappCli.RunAsync(test, "dimg", "spush", _repo);
        Assert.Contains("exactly one dimg", ambiguous.Stderr);
        var spush = await DappCli.RunAsync(test, "dimg", "spush", "web", _repo, "--tag-plain", "simple");
        Assert.True(spush.ExitCode == 0, spush.Stderr);
        Assert.Contains($"{_repo}:simple", spush.Stdout);

        using var client = new Dapp.Registry.Remote.RegistryClient();
        var repository = Dapp.Registry.Names.RepositoryName.Parse(_repo);
        Assert.Equal(["release"], await client.ListTagsAsync(Dapp.Registry.Names.RepositoryName.Parse($"{_repo}/api"), 100, default));
        Assert.Contains("simple", await client.ListTagsAsync(repository, 100, default));

        var flushStages = await DappCli.RunAsync(test, "dimg", "stages", "flush", "repo", _repo);
        Assert.True(flushStages.ExitCode == 0, flushStages.Stderr);
        Assert.Equal(["simple"], await client.ListTagsAsync(repository, 100, default));
        // An image dapp did not make as a dimg, in a dimg's repository: flush repo keeps it, as dapp did.
        var foreign = await Tool.RunAsync("/usr/bin/skopeo", "copy", "-q", "--dest-tls-verify=false", "docker-daemon:dapp-examples/busybox:1.35", $"docker://{_repo}/api:foreign");
        Assert.True(foreign.ExitCode == 0, foreign.Stderr);
        var flush = await DappCli.RunAsync(test, "dimg", "flush", "repo", _repo);
        Assert.True(flush.ExitCode == 0, flush.Stderr);
        Assert.Contains($"keep {_repo}/api:foreign: not a dimg image", flush.Stdout + flush.Stderr);
        Assert.Equal(["foreign"], await client.ListTagsAsync(Dapp.Registry.Names.RepositoryName.Parse($"{_repo}/api"), 100, default));
        Assert.Empty(await client.ListTagsAsync(Dapp.Registry.Names.RepositoryName.Parse($"{_repo}/web"), 100, default));
    }

    [Fact]
    public async Task Bp_dry_run_on_a_project_not_built_says_what_would_be_built_and_pushed_and_exits_0()
    {
        await using var test = new TestProject(Dappfile());
        var result = await DappCli.RunAsync(test, "dimg", "bp", "--dry-run", "--with-stages", _repo);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var project = await test.LoadAsync();
        var conveyors = Conveyor.WithDependencies(await project.SelectConveyorsAsync([], default));
        var stages = conveyors.SelectMany(c => c.Stages).Select(s => s.Signature).ToHashSet();
        Assert.Equal(stages, Lines(result, "[BUILD]").Select(SignatureOf).ToHashSet());
        Assert.Equal(stages, Lines(result, "[PUSH]").Select(SignatureOf).Where(stages.Contains).ToHashSet());
        Assert.Contains(result.StdoutLines, l => l.Contains($"{_repo}/api:latest") && l.EndsWith("[PUSH]"));
        Assert.Contains(result.StdoutLines, l => l.Contains($"{_repo}/web:latest") && l.EndsWith("[PUSH]"));
        Assert.Empty(await project.Stages.ListAsync(default));
        Assert.Empty(await StageTags.ListAsync(_repo));
    }

    [Fact]
    public async Task Errors_fail_before_any_transfer_and_tag_nothing()
    {
        await using var test = new TestProject(Dappfile());
        await test.BuildAsync();
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "stages", "push", _repo)).ExitCode);

        var unknown = await OnB(test, null, "dimg", "stages", "pull", "nope", _repo);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("No such dimg: nope", unknown.Stderr);
        var invalid = await OnB(test, null, "dimg", "stages", "pull", "127.0.0.1:5000/Bad_Repo");
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("Invalid REPO '127.0.0.1:5000/Bad_Repo'", invalid.Stderr);
        var unreachable = await OnB(test, null, "dimg", "stages", "pull", $"127.0.0.1:{FreePort.Next()}/x");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains("cannot reach the registry", unreachable.Stderr);

        var dir = Directory.CreateTempSubdirectory("dapp-auth-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "htpasswd"), await RegistryProcess.HtpasswdAsync("ci", "right-password"));
            await using var secured = await RegistryProcess.StartAsync($"  htpasswd:\n    realm: basic-realm\n    path: {dir}/htpasswd\n");
            var securedRepo = $"{secured.Host}/team/app";
            var pushed = await DappCli.RunAsync(test, "dimg", "stages", "push", securedRepo, "--registry-username", "ci", "--registry-password", "right-password");
            Assert.True(pushed.ExitCode == 0, pushed.Stderr);
            var wrong = await OnB(test, null, "dimg", "stages", "pull", securedRepo, "--registry-username", "ci", "--registry-password", "wrong-password");
            Assert.Equal(1, wrong.ExitCode);
            Assert.Contains("unauthorized", wrong.Stderr);
            Assert.DoesNotContain("wrong-password", wrong.Stderr + wrong.Stdout);
            var right = await OnB(test, null, "dimg", "stages", "pull", securedRepo, "--registry-username", "ci", "--registry-password", "right-password");
            Assert.True(right.ExitCode == 0, right.Stderr);
            Assert.Equal(3, Lines(right, "[PULL]").Count);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
        using var b = await test.LoadAsync(SecondEngine.Host);
        Assert.Equal(3, (await b.Stages.ListAsync(default)).Count);
    }

    [Fact]
    public async Task A_pull_killed_in_the_middle_and_run_again_ends_with_exactly_the_right_stages()
    {
        await using var test = new TestProject(Dappfile().Replace("echo web-", "dd if=/dev/urandom of=/big bs=1M count=48 2>/dev/null && echo web-"));
        await test.BuildAsync();
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "stages", "push", _repo)).ExitCode);
        test.AlsoUsed.Add((SecondEngine.Host, test.Name));

        using (var process = DappCli.Start(test.Dir, SecondEngine.Environment(test), "dimg", "stages", "pull", _repo, "--name", test.Name))
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
                if (line.Contains("[PULL]")) break;
            process.Kill();
            await process.WaitForExitAsync();
        }
        using var b = await test.LoadAsync(SecondEngine.Host);
        var expected = (await b.SelectConveyorsAsync([], default)).Select(c => c.LastSignature)
            .Append((await b.Conveyors.ForAsync(b.Dappfile.FindArtifact("builder")!, default)).LastSignature).Order().ToList();
        foreach (var image in await b.Stages.ListAsync(default))
            foreach (var tag in image.RepoTags)
                Assert.Contains(tag.Split(':')[1], expected);

        var rerun = await OnB(test, null, "dimg", "stages", "pull", _repo);
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        Assert.Equal(expected, (await b.Stages.ListAsync(default)).SelectMany(i => i.RepoTags).Select(t => t.Split(':')[1]).Order());
        var build = await test.BuildOnAsync(SecondEngine.Host, null);
        Assert.DoesNotContain(build.Stages, s => s.State == StageState.Build);
        Assert.Empty((await DockerCli.RunAsync("-H", SecondEngine.Host, "images", "--format", "{{.Repository}}", _repo)).StdoutLines);
    }
}
