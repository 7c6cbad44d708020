using Dapp.Storage;
using Dapp.Build;
using Dapp.Commands;
using Dapp.Reporting;
using Dapp.Engine;

namespace Dapp.Tests.Integration;

[Collection(EngineCollection.Name)]
public class CommandTests(EngineFixture fixture)
{
    private const string Dappfile = """
        dimg: backend
        from: dapp-examples/busybox:1.35
        shell:
          install: echo backend > /name
        docker:
          CMD: [cat, /name]
        ---
        dimg: frontend
        from: dapp-examples/busybox:1.35
        shell:
          install: echo frontend > /name
        """;

    [Fact]
    public async Task List_prints_the_dimgs_matching_the_patterns()
    {
        await using var test = new TestProject(Dappfile);
        Assert.Equal(["backend", "frontend"], (await DappCli.RunAsync(test, "dimg", "list")).StdoutLines);
        Assert.Equal(["frontend"], (await DappCli.RunAsync(test, "dimg", "list", "front*")).StdoutLines);
        var none = await DappCli.RunAsync(test, "dimg", "list", "nope");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("No such dimg: nope", none.Stderr);
    }

    [Fact]
    public async Task Unknown_options_and_values_are_errors()
    {
        await using var test = new TestProject(Dappfile);
        var bogus = await DappCli.RunAsync(test, "dimg", "build", "--bogus");
        Assert.NotEqual(0, bogus.ExitCode);
        Assert.Contains("--bogus", bogus.Stderr);
        var color = await DappCli.RunAsync(test, "dimg", "list", "--color", "purple");
        Assert.NotEqual(0, color.ExitCode);
    }

    [Fact]
    public async Task Stage_image_names_the_stage_and_empty_stages_name_the_previous_image()
    {
        await using var test = new TestProject(Dappfile);
        using var project = await test.LoadAsync();
        var backend = (await project.Conveyors.ForAsync(project.Dappfile.FindDimg("backend")!, default));
        var last = await DappCli.RunAsync(test, "dimg", "stage", "image", "backend");
        Assert.Equal($"dimgstage-{test.Name}:{backend.LastSignature}", last.Stdout.Trim());
        var setup = await DappCli.RunAsync(test, "dimg", "stage", "image", "backend", "--stage", "setup");
        Assert.Equal($"dimgstage-{test.Name}:{backend.Stages[1].Signature}", setup.Stdout.Trim());
        var ambiguous = await DappCli.RunAsync(test, "dimg", "stage", "image");
        Assert.Equal(1, ambiguous.ExitCode);
        Assert.Contains("exactly one dimg", ambiguous.Stderr);
        var unknown = await DappCli.RunAsync(test, "dimg", "stage", "image", "backend", "--stage", "compile");
        Assert.Contains("unknown stage 'compile'", unknown.Stderr);
    }

    [Fact]
    public async Task Tag_names_built_dimgs_with_dimg_labels_and_fails_for_unbuilt_ones()
    {
        await using var test = new TestProject(Dappfile);
        var notBuilt = await DappCli.RunAsync(test, "dimg", "tag", "localhost:5000/it", "--tag", "x");
        Assert.Equal(1, notBuilt.ExitCode);
        Assert.Contains("Dimg hasn't been built yet: backend", notBuilt.Stderr);

        await test.BuildAsync();
        var repo = $"localhost:5000/{test.Name}";
        var tagged = await DappCli.RunAsync(test, "dimg", "tag", "back*", repo, "--tag", "Release_1", "--tag-plain", "v1.0");
        Assert.True(tagged.ExitCode == 0, tagged.Stderr);
        var slug = Dapp.Config.Slug.Make("Release_1");
        foreach (var tag in new[] { slug, "v1.0" })
        {
            var inspect = await DockerCli.RunAsync("inspect", "--format",
                "{{index .Config.Labels \"dapp-dimg\"}} {{index .Config.Labels \"dapp-tag-scheme\"}} {{json .Config.Cmd}}", $"{repo}/backend:{tag}");
            Assert.Equal("true custom [\"cat\",\"/name\"]", inspect.Stdout.Trim());
        }
        Assert.NotEqual(0, (await DockerCli.RunAsync("image", "inspect", $"{repo}/frontend:v1.0")).ExitCode);
        Assert.Equal("backend", (await DockerCli.RunAsync("run", "--rm", "--network=none", $"{repo}/backend:v1.0")).Stdout.Trim());

        var invalid = await DappCli.RunAsync(test, "dimg", "tag", "Bad_Repo");
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("Invalid REPO 'Bad_Repo'", invalid.Stderr);

        using var project = await test.LoadAsync();
        await CleanupCommands.FlushLocalAsync(project, withStages: false, dryRun: false, force: false, new RecordingReporter(), default);
        Assert.NotEqual(0, (await DockerCli.RunAsync("image", "inspect", $"{repo}/backend:v1.0")).ExitCode);
        Assert.NotEmpty(await project.Stages.ListAsync(default));
    }

    [Fact]
    public async Task A_nameless_dimg_is_tagged_as_repo_colon_tag()
    {
        await using var test = new TestProject("dimg:\nfrom: dapp-examples/busybox:1.35\nshell:\n  install: echo x > /x\n");
        await test.BuildAsync();
        var repo = $"localhost:5000/{test.Name}";
        var result = await DappCli.RunAsync(test, "dimg", "tag", repo);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(0, (await DockerCli.RunAsync("image", "inspect", $"{repo}:latest")).ExitCode);
        await DockerCli.RunAsync("rmi", $"{repo}:latest");
    }

    [Fact]
    public async Task Run_starts_the_dimg_with_docker_args_and_a_command()
    {
        await using var test = new TestProject(Dappfile);
        await test.BuildAsync();
        var env = new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir };
        var plain = await DappCli.RunAsync(test.Dir, env, "dimg", "run", "backend", "--name", test.Name, "--rm", "--network=none");
        Assert.True(plain.ExitCode == 0, plain.Stderr);
        Assert.Equal("backend", plain.Stdout.Trim());
        var withCommand = await DappCli.RunAsync(test.Dir, env, "dimg", "run", "frontend", "--rm", "--network=none", "-e", "X=1", "--name", test.Name, "--", "sh", "-c", "echo $X; cat /name; exit 3");
        Assert.Equal(3, withCommand.ExitCode);
        Assert.Equal("1\nfrontend", withCommand.Stdout.Trim());
    }

    [Fact]
    public async Task Stages_flush_local_removes_the_projects_stages_and_cleanup_removes_leftover_containers()
    {
        await using var test = new TestProject(Dappfile);
        await test.BuildAsync();
        using var project = await test.LoadAsync();
        Assert.Equal(4, (await project.Stages.ListAsync(default)).Count);

        // A container without an owner (an older dapp's), one of a process that has ended (same pid, another start
        // time), and one of a live process (this test's).
        var leftover = $"{DappContainers.Prefix}{test.Name}.leftover";
        var ended = $"{DappContainers.Prefix}{test.Name}.ended";
        var live = $"{DappContainers.Prefix}{test.Name}.live";
        var current = ProcessOwner.Current;
        Assert.Equal(0, (await DockerCli.RunAsync("create", "--name", leftover, EngineFixture.BaseImage, "true")).ExitCode);
        Assert.Equal(0, (await DockerCli.RunAsync("create", "--name", ended, "--label", $"dapp-owner={current with { StartTicks = current.StartTicks + 1 }}", EngineFixture.BaseImage, "true")).ExitCode);
        Assert.Equal(0, (await DockerCli.RunAsync("create", "--name", live, "--label", $"dapp-owner={current}", EngineFixture.BaseImage, "true")).ExitCode);
        var dry = await DappCli.RunAsync(test, "dimg", "cleanup", "--dry-run");
        Assert.Contains($"would remove leftover container {leftover}", dry.Stdout);
        Assert.Contains($"would remove leftover container {ended}: left by dapp process {current.Pid}, which has ended", dry.Stdout);
        Assert.Contains($"keep container {live}", dry.Stdout);
        Assert.Equal(3, (await DockerCli.ContainerNamesAsync($"{DappContainers.Prefix}{test.Name}.")).Count);
        var cleanup = await DappCli.RunAsync(test, "dimg", "cleanup");
        Assert.True(cleanup.ExitCode == 0, cleanup.Stderr);
        Assert.Equal([live], await DockerCli.ContainerNamesAsync($"{DappContainers.Prefix}{test.Name}."));
        // A build, like every command that uses the engine, removes what ended processes left, and keeps the rest.
        Assert.Equal(0, (await DockerCli.RunAsync("create", "--name", ended, "--label", $"dapp-owner={current with { StartTicks = current.StartTicks + 1 }}", EngineFixture.BaseImage, "true")).ExitCode);
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "build")).ExitCode);
        Assert.Equal([live], await DockerCli.ContainerNamesAsync($"{DappContainers.Prefix}{test.Name}."));
        await DockerCli.RunAsync("rm", "-f", live);

        var flush = await DappCli.RunAsync(test, "dimg", "stages", "flush", "local");
        Assert.True(flush.ExitCode == 0, flush.Stderr);
        Assert.Empty(await project.Stages.ListAsync(default));
        Assert.True(await fixture.Engine.ImageExistsAsync(EngineFixture.BaseImage, default));
    }

    [Fact]
    public async Task Json_output_is_one_object_per_stage_on_stdout_and_the_rest_on_stderr()
    {
        await using var test = new TestProject(Dappfile);
        var first = await DappCli.RunAsync(test, "dimg", "build", "--json");
        Assert.True(first.ExitCode == 0, first.Stderr);
        var stages = first.StdoutLines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        // The two chains build at once (--jobs): lines of each come in its stage order; their shared from is built by one
        // of them and found by the other.
        string States(string image) => string.Join(",", stages.Where(s => s.GetProperty("image").GetString() == image)
            .Select(s => $"{s.GetProperty("stage").GetString()}:{s.GetProperty("state").GetString()}"));
        Assert.Matches("^from:(BUILD|USING CACHE),[a-z_]+:BUILD,[a-z_]+:BUILD$", States("backend"));
        Assert.Matches("^from:(BUILD|USING CACHE),[a-z_]+:BUILD$", States("frontend"));
        Assert.Single(stages, s => s.GetProperty("stage").GetString() == "from" && s.GetProperty("state").GetString() == "BUILD");
        Assert.All(stages, s => Assert.Matches("^[0-9a-f]{64}$", s.GetProperty("signature").GetString()!));

        var second = await DappCli.RunAsync(test, "dimg", "build", "--json");
        Assert.All(second.StdoutLines, l => Assert.Equal("USING CACHE", System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("state").GetString()));
    }

    /// <summary>The fields docs/json.md gives each type (the required ones).</summary>
    private static readonly Dictionary<string, string[]> JsonSchema = new()
    {
        ["stage"] = ["image", "stage", "signature", "state"],
        ["summary"] = ["direction", "dry_run", "stages", "location"],
        ["removal"] = ["action", "name"],
        ["dimg"] = ["name"],
        ["stage_image"] = ["dimg", "stage", "image"],
    };

    /// <summary>Every stdout line of a --json run is an object of a documented type with its fields; returns them.</summary>
    private static List<System.Text.Json.JsonElement> JsonLines(CliResult result, string command)
    {
        Assert.True(result.ExitCode == 0, $"{command}: {result.Stderr}");
        var lines = result.StdoutLines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        foreach (var line in lines)
        {
            var type = line.GetProperty("type").GetString()!;
            Assert.True(JsonSchema.ContainsKey(type), $"{command}: undocumented type {type}");
            foreach (var field in JsonSchema[type]) Assert.True(line.TryGetProperty(field, out _), $"{command}: {type} without {field}: {line}");
        }
        return lines;
    }

    [Fact]
    public async Task Json_output_of_every_command_is_json_lines_of_the_documented_types()
    {
        await using var test = new TestProject(Dappfile);
        var repo = $"127.0.0.1:5000/json/{Guid.NewGuid():N}";
        static IEnumerable<string> Types(List<System.Text.Json.JsonElement> lines) => lines.Select(l => l.GetProperty("type").GetString()!).Distinct();

        Assert.Equal(["stage"], Types(JsonLines(await DappCli.RunAsync(test, "dimg", "build", "--json"), "build")));
        var list = JsonLines(await DappCli.RunAsync(test, "dimg", "list", "--json"), "list");
        Assert.Equal(["backend", "frontend"], list.Select(l => l.GetProperty("name").GetString()));
        var image = Assert.Single(JsonLines(await DappCli.RunAsync(test, "dimg", "stage", "image", "backend", "--json"), "stage image"));
        Assert.Equal("stage_image", image.GetProperty("type").GetString());
        Assert.StartsWith($"dimgstage-{test.Name}:", image.GetProperty("image").GetString());

        var pushed = JsonLines(await DappCli.RunAsync(test, "dimg", "stages", "push", repo, "--json"), "stages push");
        var pushSummary = Assert.Single(pushed, l => l.GetProperty("type").GetString() == "summary");
        Assert.Equal("push", pushSummary.GetProperty("direction").GetString());
        Assert.Equal(4, pushSummary.GetProperty("stages").GetInt32());
        Assert.Equal(["stage"], Types(JsonLines(await DappCli.RunAsync(test, "dimg", "push", repo, "--json"), "push")));

        Assert.Equal(["removal"], Types(JsonLines(await DappCli.RunAsync(test, "dimg", "flush", "local", "--with-stages", "--json"), "flush local")));
        var pulled = JsonLines(await DappCli.RunAsync(test, "dimg", "stages", "pull", repo, "--json"), "stages pull");
        var pullSummary = Assert.Single(pulled, l => l.GetProperty("type").GetString() == "summary");
        Assert.Equal(2, pullSummary.GetProperty("stages").GetInt32());

        // Bytes come from the manifests: the layers of the stages moved (tiny ones, which the engine reports no progress
        // for, included), without the base image's layer, which both engines had.
        using var client = new Dapp.Registry.Remote.RegistryClient();
        var repository = Dapp.Registry.Names.RepositoryName.Parse(repo);
        async Task<IReadOnlyList<Dapp.Registry.Model.Descriptor>> LayersAsync(string signature) =>
            (await client.GetManifestExactAsync(Dapp.Registry.Names.ImageReference.WithTag(repository, "dimgstage-" + signature), default)).AsManifest().Layers;
        var pulledLayers = new List<Dapp.Registry.Model.Descriptor>();
        foreach (var stage in pulled.Where(l => l.GetProperty("type").GetString() == "stage" && l.GetProperty("state").GetString() == "PULL"))
            pulledLayers.AddRange((await LayersAsync(stage.GetProperty("signature").GetString()!)).Skip(1));
        var expectedPulled = pulledLayers.DistinctBy(l => l.Digest).Sum(l => l.Size);
        Assert.True(expectedPulled > 0);
        // Podman commits an unchanged container as an empty layer (a 32-byte gzip), the same one every time: the engine
        // may have it already, and then does not move it.
        var emptyLayers = pulledLayers.DistinctBy(l => l.Digest).Where(l => l.Size <= 32).Sum(l => l.Size);
        Assert.InRange(pullSummary.GetProperty("bytes").GetInt64(), expectedPulled - emptyLayers, expectedPulled);
        var pushedBytes = pushSummary.GetProperty("bytes").GetInt64();
        var pushedStages = pushed.Where(l => l.GetProperty("type").GetString() == "stage" && l.GetProperty("state").GetString() == "PUSH")
            .Select(l => l.GetProperty("signature").GetString()!).Distinct().ToList();
        var allPushed = new List<Dapp.Registry.Model.Descriptor>();
        foreach (var signature in pushedStages) allPushed.AddRange(await LayersAsync(signature));
        // The base layer may have been mounted from another repository of the registry rather than pushed.
        Assert.InRange(pushedBytes, allPushed.DistinctBy(l => l.Digest).Skip(1).Sum(l => l.Size), allPushed.DistinctBy(l => l.Digest).Sum(l => l.Size));

        var cleanup = JsonLines(await DappCli.RunAsync(test, "dimg", "stages", "cleanup", "repo", repo, "--improper-repo-cache", "--keep-younger-than", "0s", "--dry-run", "--json"), "stages cleanup repo");
        Assert.All(cleanup, l => Assert.Equal("removal", l.GetProperty("type").GetString()));
        var flushed = JsonLines(await DappCli.RunAsync(test, "dimg", "flush", "repo", repo, "--with-stages", "--json"), "flush repo");
        Assert.Contains(flushed, l => l.GetProperty("action").GetString() == "delete" && l.GetProperty("name").GetString()!.Contains(":dimgstage-"));
    }

    [Fact]
    public async Task Version_and_help_work()
    {
        var version = await DappCli.RunAsync(Path.GetTempPath(), null, "--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Stdout.Trim());
        var help = await DappCli.RunAsync(Path.GetTempPath(), null, "dimg", "build", "--help");
        Assert.Contains("--lock-timeout", help.Stdout);
    }

    [Fact]
    public async Task Scratch_upload_names_older_dapps_left_in_the_engine_are_removed_by_the_next_command_that_pushes()
    {
        await using var test = new TestProject(Dappfile);
        await test.BuildAsync();
        using var project = await test.LoadAsync();
        var stage = project.Stages.ImageName((await project.SelectConveyorsAsync([], default))[0].LastSignature);
        var repo = $"127.0.0.1:5000/leftovers/{Guid.NewGuid():N}";
        foreach (var slot in new[] { 0, 1 })
            Assert.Equal(0, (await DockerCli.RunAsync("tag", stage, $"{repo}:{RegistryStagesStorage.UploadTagPrefix}{slot}")).ExitCode);
        // Counted by name: Podman lists every name of an image a name matches.
        Assert.Equal(2, (await DockerCli.RunAsync("images", "--format", "{{.Repository}}:{{.Tag}}", repo)).StdoutLines.Count(l => l.StartsWith(repo + ":")));

        // A build looks for no image names (docs/reliability.md); a push does.
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "build")).ExitCode);
        Assert.Equal(2, (await DockerCli.RunAsync("images", "--format", "{{.Repository}}:{{.Tag}}", repo)).StdoutLines.Count(l => l.StartsWith(repo + ":")));
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "push", $"127.0.0.1:5000/leftovers/{Guid.NewGuid():N}")).ExitCode);
        Assert.DoesNotContain((await DockerCli.RunAsync("images", "--format", "{{.Repository}}:{{.Tag}}", repo)).StdoutLines, l => l.StartsWith(repo + ":"));
        Assert.True(await project.Stages.ExistsAsync((await project.SelectConveyorsAsync([], default))[0].LastSignature, default));
    }
}
