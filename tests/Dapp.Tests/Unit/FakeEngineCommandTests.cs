using Dapp.Build;
using Dapp.Commands;
using Dapp.Engine;
using Dapp.Registry.Names;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Tests.Unit.Fakes;

namespace Dapp.Tests.Unit;

/// <summary>
/// The commands over the engine seam, on an engine in memory (<see cref="FakeEngine"/>): what dapp asks of the engine
/// to build, tag and clean up, and what it leaves there, without a Docker engine. The same behaviours run end to end
/// against the real engine in the integration tests; these pin the engine calls and fail in seconds.
/// </summary>
public sealed class FakeEngineCommandTests : IDisposable
{
    private const string Dappfile = """
        dimg: app
        from: base:1
        shell:
          beforeInstall: [echo one]
          install: [echo two, echo three]
        docker:
          CMD: ["/bin/app"]
          ENV: {MODE: prod}
          WORKDIR: /srv
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("dapp-fake-").FullName;
    private readonly string _name = "fake-" + Guid.NewGuid().ToString("N")[..10];
    private readonly FakeEngine _engine = new();

    public FakeEngineCommandTests()
    {
        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), Dappfile);
        _engine.AddImage("base:1", env: ["PATH=/bin"]);
        _engine.Run = c => (c.Script.Split(" && ").Select(command => command.StartsWith("echo ", StringComparison.Ordinal) ? command[5..] : "").Where(l => l.Length > 0).ToList(),
            c.Script.Contains("exit 3", StringComparison.Ordinal) ? 3 : 0);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Task<DappProject> LoadAsync() =>
        DappProject.LoadAsync(new ProjectOptions { Dir = _dir, Name = _name, BuildDir = Path.Combine(_dir, ".build"), Engine = () => _engine }, default);

    private async Task<RecordingReporter> BuildAsync(CancellationToken ct = default)
    {
        using var project = await LoadAsync();
        var reporter = new RecordingReporter();
        await BuildCommand.RunAsync(project, [], new BuildOptions(), StagesStorageOption.Local, reporter, ct);
        return reporter;
    }

    private IReadOnlyList<string> StageTags => _engine.Tags.Where(t => t.StartsWith($"dimgstage-{_name}:", StringComparison.Ordinal)).ToList();

    [Fact]
    public async Task A_build_commits_each_stage_once_with_its_labels_on_its_parent_and_leaves_no_container()
    {
        var reporter = await BuildAsync();

        Assert.Equal(["from", "before_install", "install", "docker_instructions"],
            reporter.Stages.Where(s => s.State == StageState.Build).Select(s => s.Stage));
        Assert.Equal(4, _engine.Calls.Count(c => c.StartsWith("commit ", StringComparison.Ordinal)));
        Assert.Equal(["one", "two", "three"], reporter.Lines.Where(l => l is "one" or "two" or "three"));
        Assert.Empty(_engine.Containers);
        Assert.Equal(4, StageTags.Count);

        using var project = await LoadAsync();
        var conveyor = (await project.SelectConveyorsAsync([], default))[0];
        string? parent = null;
        foreach (var stage in conveyor.Stages)
        {
            var image = _engine.Image(project.Stages.ImageName(stage.Signature))!;
            Assert.Equal(stage.Signature, image.Labels[DappLabels.StageSignature]);
            Assert.Equal(stage.Name.DappName(), image.Labels[DappLabels.Stage]);
            Assert.Equal(_name, image.Labels[DappLabels.Project]);
            if (parent is not null)
            {
                Assert.Equal(parent, image.Labels[DappLabels.ParentSignature]);
                // Each stage is built on its parent stage's image: its layers start with the parent's.
                var parentLayers = _engine.Image(project.Stages.ImageName(parent))!.Layers;
                Assert.Equal(parentLayers, image.Layers.Take(parentLayers.Count));
            }
            parent = stage.Signature;
        }
        var last = _engine.Image(project.Stages.ImageName(conveyor.LastSignature))!;
        Assert.Equal(["/bin/app"], last.Config.Cmd);
        Assert.Contains("MODE=prod", last.Config.Env!);
        Assert.Contains("PATH=/bin", last.Config.Env!);
        Assert.Equal("/srv", last.Config.WorkingDir);
        Assert.Equal("false", last.Labels[DappLabels.Dimg]);
    }

    [Fact]
    public async Task A_second_build_is_all_cache_and_asks_the_engine_for_no_container()
    {
        await BuildAsync();
        var before = _engine.Calls.Count;
        var reporter = await BuildAsync();

        Assert.All(reporter.Stages, s => Assert.Equal(StageState.UsingCache, s.State));
        Assert.DoesNotContain(_engine.Calls.Skip(before), c => c.StartsWith("create", StringComparison.Ordinal) || c.StartsWith("commit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failing_command_fails_the_stage_keeps_the_stages_before_it_and_leaves_no_container_or_tag()
    {
        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), Dappfile.Replace("echo three", "exit 3"));
        var e = await Assert.ThrowsAsync<StageFailedException>(() => BuildAsync());

        Assert.Equal("app: stage install failed: a command exited with code 3", e.Message);
        Assert.Empty(_engine.Containers);
        // from (a name for the base) and before_install; no image under install's name.
        Assert.Equal(2, StageTags.Count);
    }

    [Fact]
    public async Task A_build_cancelled_while_a_command_runs_removes_its_container_and_tags_nothing_for_that_stage()
    {
        using var cancel = new CancellationTokenSource();
        _engine.OnStart = c =>
        {
            if (c.Script.Contains("echo two", StringComparison.Ordinal)) cancel.Cancel();
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => BuildAsync(cancel.Token));

        Assert.Empty(_engine.Containers);
        Assert.Equal(2, StageTags.Count);
    }

    [Fact]
    public async Task Tag_makes_the_dimg_image_from_the_last_stage_with_the_dimg_labels_and_removes_its_container()
    {
        await BuildAsync();
        using var project = await LoadAsync();
        var tagged = await TagCommand.RunAsync(project, [], RepositoryName.FromArgument("myrepo"),
            new TagOptions { PlainTags = ["v1"] }, dryRun: false, new RecordingReporter(), default);

        Assert.Equal(["myrepo/app:v1"], tagged);
        var image = _engine.Image("myrepo/app:v1")!;
        var last = _engine.Image(project.Stages.ImageName((await project.SelectConveyorsAsync([], default))[0].LastSignature))!;
        Assert.Equal("true", image.Labels[DappLabels.Dimg]);
        Assert.Equal("custom", image.Labels[DappLabels.TagScheme]);
        Assert.Equal(last.Labels[DappLabels.StageSignature], image.Labels[DappLabels.StageSignature]);
        Assert.Equal(last.Config.Cmd, image.Config.Cmd);
        Assert.Equal(last.Layers, image.Layers.Take(last.Layers.Count));
        Assert.Empty(_engine.Containers);
    }

    [Fact]
    public async Task A_killed_build_s_container_is_removed_by_the_next_command_and_a_live_one_s_is_kept()
    {
        var ended = ProcessOwner.Current with { Pid = 999_999_999 };
        var live = ProcessOwner.Current;
        foreach (var (owner, purpose) in new[] { (ended, "ended"), (live, "live") })
        {
            var labels = DappContainers.Labels(_name);
            labels[DappLabels.Owner] = owner.ToString();
            await _engine.CreateContainerAsync(new Docker.DotNet.Models.CreateContainerParameters { Name = DappContainers.Name(_name, purpose), Image = "base:1", Labels = labels });
        }

        await BuildAsync();

        Assert.Equal([$"{DappContainers.Prefix}{_name}.live."], _engine.Containers.Select(c => c.Name[..^32]));
    }

    [Fact]
    public async Task A_rebuild_says_why_and_an_engine_that_cannot_list_its_images_leaves_the_reason_unknown_not_the_build_failed()
    {
        await BuildAsync();
        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), Dappfile.Replace("echo three", "echo four"));
        var reporter = await BuildAsync();
        var install = reporter.Stages.Single(s => s.Stage == "install");
        Assert.Equal(StageState.Build, install.State);
        Assert.Equal(RebuildReason.Instructions, install.Reason!.Kind);
        Assert.Equal(["dappfile.yml:5: \"echo three\" -> \"echo four\""], install.Reason.Details);
        Assert.Equal(["install changed"], reporter.Stages.Single(s => s.Stage == "docker_instructions").Reason!.Details);
        Assert.All(reporter.Stages.Where(s => s.State != StageState.Build), s => Assert.Null(s.Reason));

        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), Dappfile.Replace("echo three", "echo five"));
        _engine.ListImagesFails = () => new DappException("the engine is busy");
        reporter = await BuildAsync();
        install = reporter.Stages.Single(s => s.Stage == "install");
        Assert.Equal(StageState.Build, install.State);
        Assert.Equal((RebuildReason.Unknown, "the earlier build could not be read: the engine is busy"), (install.Reason!.Kind, install.Reason.Details.Single()));
        Assert.NotNull(_engine.Image($"dimgstage-{_name}:{install.Signature}"));
    }

    [Theory]
    [InlineData("echo three", "echo four")]
    [InlineData("echo four", "echo three")]
    public async Task Of_two_builds_within_one_second_the_newer_is_the_earlier_build_a_rebuild_is_told_against(string older, string newer)
    {
        var at = new DateTime(2026, 1, 1, 0, 0, 0, 100, DateTimeKind.Utc);
        _engine.Clock = () => at;
        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), Dappfile.Replace("echo three", older));
        await BuildAsync();
        at = at.AddMilliseconds(500);
        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), Dappfile.Replace("echo three", newer));
        await BuildAsync();
        at = at.AddSeconds(5);
        File.WriteAllText(Path.Combine(_dir, "dappfile.yml"), Dappfile.Replace("echo three", "echo five"));
        var install = (await BuildAsync()).Stages.Single(s => s.Stage == "install");
        Assert.Equal([$"dappfile.yml:5: \"{newer}\" -> \"echo five\""], install.Reason!.Details);
    }
}
