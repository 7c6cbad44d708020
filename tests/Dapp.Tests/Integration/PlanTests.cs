using System.Text.Json;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Tests.Integration;

/// <summary>
/// dapp dimg plan and the reasons of [BUILD] lines, through the CLI on the real engine and registry: why each stage is
/// built, against the dimg's earlier build on this host or in REPO, with nothing built, pulled or pushed by a plan.
/// </summary>
[Collection(EngineCollection.Name)]
public class PlanTests : IAsyncLifetime
{
    private readonly string _marker = Guid.NewGuid().ToString("N")[..12];
    private readonly string _repo = $"127.0.0.1:5000/plan/{Guid.NewGuid():N}";

    public Task InitializeAsync() => SecondEngine.EnsureUpAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    private string TwoDimgs(string install = "echo two > /app/two", string tool = "echo tool > /tool") => $"""
        dimg: a
        from: {EngineFixture.BaseImage}
        shell:
          beforeInstall:
          - mkdir -p /app && echo {_marker} > /app/marker
          install:
          - echo one > /app/one
          - {install}
          setup:
          - echo setup > /app/setup
        docker:
          CMD: ["/bin/sh"]
        import:
        - artifact: tool
          add: /tool
          to: /app/tool
          after: setup
        ---
        dimg: b
        from: {EngineFixture.BaseImage}
        shell:
          install:
          - echo {_marker} > /b
        ---
        artifact: tool
        from: {EngineFixture.BaseImage}
        shell:
          install:
          - {tool}
        """;

    private static async Task<CliResult> Dapp(TestProject test, params string[] args)
    {
        var result = await DappCli.RunAsync(test, args);
        Assert.True(result.ExitCode == 0, $"dapp {string.Join(' ', args)}: {result.Stderr}");
        return result;
    }

    private static async Task<CliResult> OnB(TestProject test, params string[] args)
    {
        if (!test.AlsoUsed.Contains((SecondEngine.Host, test.Name))) test.AlsoUsed.Add((SecondEngine.Host, test.Name));
        var result = await DappCli.RunAsync(test.Dir, SecondEngine.Environment(test), [.. args, "--name", test.Name]);
        Assert.True(result.ExitCode == 0, $"dapp {string.Join(' ', args)} on B: {result.Stderr}");
        return result;
    }

    /// <summary>
    /// The project's images (its stages, and any image with its label: IDs and names) and containers in an engine: what
    /// a plan must leave as it found it. Only the project's: tests outside the engine collection use the engines at once.
    /// </summary>
    private static async Task<string> EngineStateAsync(TestProject test, string? host = null)
    {
        string[] on = host is null ? [] : ["-H", host];
        string[] format = ["--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"];
        var stages = await DockerCli.RunAsync([.. on, "images", "-a", .. format, $"dimgstage-{test.Name}"]);
        var labelled = await DockerCli.RunAsync([.. on, "images", "-a", "--filter", $"label=dapp={test.Name}", .. format]);
        var containers = await DockerCli.RunAsync([.. on, "ps", "-a", "--no-trunc", "--filter", $"name=dapp.build.{test.Name}", "--format", "{{.ID}} {{.Names}}"]);
        if (host is null) Assert.NotEmpty(stages.StdoutLines); // the built project is seen: the filter is right
        return string.Join("\n", stages.StdoutLines.Concat(labelled.StdoutLines).Order()) + "\n--\n" + string.Join("\n", containers.StdoutLines.Order());
    }

    private async Task<string> RegistryTagsAsync(params string[] repositories)
    {
        using var client = new RegistryClient();
        var all = new List<string>();
        foreach (var repository in repositories.Prepend(_repo))
        {
            try
            {
                all.AddRange((await client.ListTagsAsync(RepositoryName.Parse(repository), 1000, default)).Select(t => $"{repository}:{t}"));
            }
            catch (Dapp.Registry.Model.RegistryException e) when (e.IsNotFound)
            {
            }
        }
        return string.Join("\n", all.Order());
    }

    private static List<JsonElement> JsonLines(CliResult result) =>
        result.StdoutLines.Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.GetProperty("type").GetString() == "stage").ToList();

    private static (string Kind, string[] Details)? Reason(JsonElement stage) =>
        stage.TryGetProperty("reason", out var r) ? (r.GetProperty("kind").GetString()!, r.GetProperty("details").EnumerateArray().Select(d => d.GetString()!).ToArray()) : null;

    private static string Line(CliResult result, string dimg, string stage) =>
        result.StdoutLines.Single(l => l.StartsWith(dimg + " ") && l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] == stage);

    private static string Because(CliResult result, string dimg, string stage)
    {
        var lines = result.StdoutLines.ToList();
        var index = lines.IndexOf(Line(result, dimg, stage));
        Assert.True(index + 1 < lines.Count && lines[index + 1].StartsWith("    because: "), $"no because: line under {dimg} {stage}:\n{result.Stdout}");
        return lines[index + 1]["    because: ".Length..];
    }

    [Fact]
    public async Task Plan_names_the_changed_install_command_and_its_line_and_builds_pulls_and_pushes_nothing()
    {
        await using var test = new TestProject(TwoDimgs());
        await Dapp(test, "dimg", "bp", _repo, "--tag-plain", "main");
        test.WriteDappfile(TwoDimgs(install: "echo TWO > /app/two"));
        var engine = await EngineStateAsync(test);
        var tags = await RegistryTagsAsync($"{_repo}/a", $"{_repo}/b");

        var plan = await Dapp(test, "dimg", "plan");
        Assert.EndsWith("[BUILD]", Line(plan, "a", "install"));
        Assert.Equal("instructions: dappfile.yml:8: \"echo two > /app/two\" -> \"echo TWO > /app/two\"", Because(plan, "a", "install"));
        Assert.Equal("parent: install changed", Because(plan, "a", "setup"));
        Assert.Equal("parent: setup changed", Because(plan, "a", "after_setup_artifact"));
        Assert.Equal("parent: after_setup_artifact changed", Because(plan, "a", "docker_instructions"));
        foreach (var stage in new[] { "from", "before_install" }) Assert.EndsWith("[USING CACHE]", Line(plan, "a", stage));
        foreach (var stage in new[] { "from", "install" }) Assert.EndsWith("[USING CACHE]", Line(plan, "b", stage));

        var json = JsonLines(await Dapp(test, "dimg", "plan", "--json"));
        var install = json.Single(s => s.GetProperty("image").GetString() == "a" && s.GetProperty("stage").GetString() == "install");
        Assert.Equal("BUILD", install.GetProperty("state").GetString());
        Assert.Equal("instructions", Reason(install)!.Value.Kind);
        Assert.Equal(["dappfile.yml:8: \"echo two > /app/two\" -> \"echo TWO > /app/two\""], Reason(install)!.Value.Details);
        Assert.All(json.Where(s => s.GetProperty("image").GetString() == "b"), s => Assert.Equal("USING CACHE", s.GetProperty("state").GetString()));

        Assert.Equal(engine, await EngineStateAsync(test));
        Assert.Equal(tags, await RegistryTagsAsync($"{_repo}/a", $"{_repo}/b"));

        // The build says the same under its [BUILD] lines, and a no-op plan has nothing to explain.
        var build = await Dapp(test, "dimg", "build");
        Assert.Equal(Because(plan, "a", "install"), Because(build, "a", "install"));
        var again = await Dapp(test, "dimg", "plan");
        Assert.DoesNotContain(again.StdoutLines, l => l.Contains("because:") || l.EndsWith("[BUILD]"));
    }

    private string GitDappfile(string from = EngineFixture.BaseImage) => $"""
        dimg: app
        from: {from}
        git:
        - add: /src
          to: /app
          stageDependencies:
            install: [deps.txt]
        shell:
          install:
          - cat /app/deps.txt > /installed && echo {_marker}
        """;

    [Fact]
    public async Task Plan_names_changed_git_files_and_a_changed_base_image_and_notes_a_retagged_one()
    {
        await using var test = new TestProject(GitDappfile());
        var repo = await GitRepo.InitAsync(test.Dir);
        repo.Write("src/deps.txt", "a\n");
        repo.Write("src/main.txt", "x\n");
        await repo.CommitAsync("one");
        await Dapp(test, "dimg", "build");

        repo.Write("src/deps.txt", "b\n");
        await repo.CommitAsync("deps");
        var deps = await Dapp(test, "dimg", "plan");
        Assert.Equal("git: src/deps.txt", Because(deps, "app", "g_a_pre_install_patch"));
        Assert.Equal("parent: g_a_pre_install_patch changed", Because(deps, "app", "install"));
        await Dapp(test, "dimg", "build");

        repo.Write("src/main.txt", "y\n");
        repo.Write("src/other.txt", "z\n");
        await repo.CommitAsync("main");
        var latest = await Dapp(test, "dimg", "plan");
        Assert.Equal(["g_a_latest_patch"], latest.StdoutLines.Where(l => l.EndsWith("[BUILD]")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));
        Assert.Equal("git: src/main.txt; src/other.txt", Because(latest, "app", "g_a_latest_patch"));
        await Dapp(test, "dimg", "build");

        // The patch goes from the commit the stage before it recorded (that of the deps change): 27 files, 20 named.
        for (int i = 0; i < 25; i++) repo.Write($"src/many/f{i:00}.txt", $"{i}\n");
        await repo.CommitAsync("many");
        var many = (await Dapp(test, "dimg", "plan")).StdoutLines.ToList();
        var details = JsonLines(await Dapp(test, "dimg", "plan", "--json")).Single(s => s.GetProperty("stage").GetString() == "g_a_latest_patch");
        Assert.Equal(["src/main.txt", .. Enumerable.Range(0, 19).Select(i => $"src/many/f{i:00}.txt"), "… and 7 more file(s) of git path to /app"], Reason(details)!.Value.Details);
        Assert.Single(many, l => l.EndsWith("[BUILD]"));

        // Another base image: from is built again, for its base image.
        var other = $"dapp-plan-base-{_marker}:1";
        Assert.Equal(0, (await DockerCli.RunAsync("tag", EngineFixture.BaseImage, other)).ExitCode);
        try
        {
            test.WriteDappfile(GitDappfile(from: other));
            await repo.CommitAsync("other base");
            var rebased = await Dapp(test, "dimg", "plan");
            Assert.Equal($"base-image: dappfile.yml:2: from \"{EngineFixture.BaseImage}\" -> \"{other}\"", Because(rebased, "app", "from"));
            await Dapp(test, "dimg", "build");

            // The same name re-tagged to another image: nothing rebuilds, and the from line says both images.
            var was = (await DockerCli.RunAsync("image", "inspect", "--format", "{{.Id}}", other)).Stdout.Trim();
            var container = (await DockerCli.RunAsync("create", other, "true")).Stdout.Trim();
            Assert.Equal(0, (await DockerCli.CommitAsync(null, container, other)).ExitCode);
            await DockerCli.RunAsync("rm", container);
            var now = (await DockerCli.RunAsync("image", "inspect", "--format", "{{.Id}}", other)).Stdout.Trim();
            Assert.NotEqual(was, now);
            var retagged = await Dapp(test, "dimg", "plan", "--json");
            var stages = JsonLines(retagged);
            Assert.DoesNotContain(stages, s => s.GetProperty("state").GetString() == "BUILD");
            var note = stages.Single(s => s.GetProperty("stage").GetString() == "from").GetProperty("note").GetString()!;
            Assert.Contains(was, note);
            Assert.Contains(now, note);
            Assert.Contains("fromCacheVersion", note);
        }
        finally
        {
            await DockerCli.RunAsync("rmi", "-f", other);
        }
    }

    [Fact]
    public async Task A_fresh_host_finds_the_earlier_build_through_REPO_and_gives_the_same_reasons_pulling_nothing()
    {
        await using var test = new TestProject(TwoDimgs());
        await Dapp(test, "dimg", "bp", "--stages-storage", _repo, _repo, "--tag-plain", "main");
        // An artifact has no tags: B finds its earlier build through the import stage of a's.
        test.WriteDappfile(TwoDimgs(install: "echo TWO > /app/two", tool: "echo TOOL > /tool"));
        var engineB = await EngineStateAsync(test, SecondEngine.Host);
        var tags = await RegistryTagsAsync($"{_repo}/a", $"{_repo}/b");

        var onA = JsonLines(await Dapp(test, "dimg", "plan", "--json"));
        var onB = JsonLines(await OnB(test, "dimg", "plan", "--json", "--stages-storage", _repo));
        List<(string, string, (string, string[])?)> Built(List<JsonElement> lines) => lines.Where(s => s.GetProperty("state").GetString() == "BUILD")
            .Select(s => (s.GetProperty("image").GetString()!, s.GetProperty("stage").GetString()!, Reason(s))).ToList();
        var built = Built(onB);
        Assert.Equal(["a install", "a setup", "artifact tool install", "a after_setup_artifact", "a docker_instructions"], built.Select(b => $"{b.Item1} {b.Item2}"));
        Assert.Equal("instructions", built[0].Item3!.Value.Item1);
        Assert.Equal(("instructions", "dappfile.yml:29: \"echo tool > /tool\" -> \"echo TOOL > /tool\""), (built[2].Item3!.Value.Item1, built[2].Item3!.Value.Item2.Single()));
        Assert.Equal("imports", built[3].Item3!.Value.Item1);
        Assert.StartsWith("artifact tool changed: its install changed (instructions: ", built[3].Item3!.Value.Item2.Single());
        Assert.Equal(Built(onA).Select(b => (b.Item1, b.Item2, b.Item3!.Value.Item1, string.Join("|", b.Item3!.Value.Item2))),
            built.Select(b => (b.Item1, b.Item2, b.Item3!.Value.Item1, string.Join("|", b.Item3!.Value.Item2))));
        Assert.Contains(onB, s => s.GetProperty("state").GetString() == "IN REPO");

        Assert.Equal(engineB, await EngineStateAsync(test, SecondEngine.Host));
        Assert.Equal(tags, await RegistryTagsAsync($"{_repo}/a", $"{_repo}/b"));
    }

    [Fact]
    public async Task In_REPO_the_jobs_branch_tag_is_read_first_and_at_most_ten_tags_are_read()
    {
        await using var test = new TestProject(TwoDimgs(install: "echo zero > /app/two"));
        // An older build under 11 tags that sort before the branch's; the newer one under the branch's tag only.
        await Dapp(test, ["dimg", "bp", "--stages-storage", _repo, "a", _repo, .. Enumerable.Range(0, 11).SelectMany(i => new[] { "--tag-plain", $"a{i:00}" })]);
        test.WriteDappfile(TwoDimgs());
        await Dapp(test, "dimg", "bp", "--stages-storage", _repo, "a", _repo, "--tag-plain", "main");
        test.WriteDappfile(TwoDimgs(install: "echo TWO > /app/two"));

        async Task<string> InstallReasonOnB(Dictionary<string, string> env)
        {
            if (!test.AlsoUsed.Contains((SecondEngine.Host, test.Name))) test.AlsoUsed.Add((SecondEngine.Host, test.Name));
            var plan = await DappCli.RunAsync(test.Dir, env, ["dimg", "plan", "a", "--json", "--stages-storage", _repo, "--name", test.Name]);
            Assert.True(plan.ExitCode == 0, plan.Stderr);
            return Reason(JsonLines(plan).Single(s => s.GetProperty("image").GetString() == "a" && s.GetProperty("stage").GetString() == "install"))!.Value.Details.Single();
        }
        var onBranch = new Dictionary<string, string>(SecondEngine.Environment(test)) { ["CI_COMMIT_REF_NAME"] = "main" };
        Assert.Equal("dappfile.yml:8: \"echo two > /app/two\" -> \"echo TWO > /app/two\"", await InstallReasonOnB(onBranch));
        // Without the branch: the first ten tags in ordinal order, all the older build's.
        Assert.Equal("dappfile.yml:8: \"echo zero > /app/two\" -> \"echo TWO > /app/two\"", await InstallReasonOnB(SecondEngine.Environment(test)));
    }
}
