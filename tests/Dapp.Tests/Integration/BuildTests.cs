using Dapp.Storage;
using Dapp.Build;
using Dapp.Commands;
using Dapp.Reporting;
using Dapp.Stages;
using Dapp.Engine;

namespace Dapp.Tests.Integration;

[Collection(EngineCollection.Name)]
[Trait("podman-ci", "yes")]
public class BuildTests(EngineFixture fixture)
{
    private const string TwoDimgsAndAnArtifact = """
        artifact: builder
        from: dapp-examples/busybox:1.35
        shell:
          install:
          - mkdir -p /out/bin /out/tmp
          - echo built-by-artifact > /out/bin/tool
          - echo scratch > /out/tmp/junk
        ---
        dimg: api
        from: dapp-examples/busybox:1.35
        import:
        - {artifact: builder, add: /out, to: /opt/tools, excludePaths: [tmp], after: install}
        shell:
          beforeInstall: echo "before install of api"
          install: mkdir -p /app && echo api > /app/name
          setup: echo "setup-1" > /app/setup
        docker:
          WORKDIR: /app
          CMD: [cat, /app/name]
        ---
        dimg: web
        from: dapp-examples/busybox:1.35
        shell:
          install: echo web > /web
        """;

    private static IReadOnlyList<StageEvent> Built(RecordingReporter r) => r.Stages.Where(s => s.State == StageState.Build).ToList();

    [Fact]
    public async Task Two_dimgs_and_an_imported_artifact_build_and_a_second_build_builds_nothing()
    {
        await using var test = new TestProject(TwoDimgsAndAnArtifact);
        var first = await test.BuildAsync();

        using var project = await test.LoadAsync();
        var api = (await project.Conveyors.ForAsync(project.Dappfile.FindDimg("api")!, default));
        var web = (await project.Conveyors.ForAsync(project.Dappfile.FindDimg("web")!, default));
        var builder = (await project.Conveyors.ForAsync(project.Dappfile.FindArtifact("builder")!, default));
        var allSignatures = new[] { api, web, builder }.SelectMany(c => c.Stages).Select(s => s.Signature).Distinct().ToList();
        Assert.Equal(allSignatures.Order(), Built(first).Select(s => s.Signature).Order());
        Assert.Contains(first.Stages, s => s.Image == "artifact builder" && s.Stage == "install" && s.State == StageState.Build);
        Assert.Contains("before install of api", first.Lines);

        var second = await test.BuildAsync();
        Assert.Empty(Built(second));
        Assert.All(second.Stages, s => Assert.Equal(StageState.UsingCache, s.State));
        Assert.DoesNotContain(second.Stages, s => s.Image == "artifact builder");

        var apiImage = project.Stages.ImageName(api.LastSignature);
        Assert.Equal("built-by-artifact|api|setup-1|missing",
            await DockerCli.ShellAsync(apiImage, "echo $(cat /opt/tools/bin/tool)'|'$(cat /app/name)'|'$(cat /app/setup)'|'$(test -e /opt/tools/tmp && echo present || echo missing)"));
        var run = await DockerCli.RunAsync("run", "--rm", "--network=none", apiImage);
        Assert.Equal("api", run.Stdout.Trim());
        var labels = await DockerCli.RunAsync("inspect", "--format", "{{index .Config.Labels \"dapp\"}} {{index .Config.Labels \"dapp-dimg\"}} {{index .Config.Labels \"dapp-stage\"}} {{.Config.WorkingDir}}", apiImage);
        Assert.Equal($"{test.Name} false docker_instructions /app", labels.Stdout.Trim());
        var artifactLabel = await DockerCli.RunAsync("inspect", "--format", "{{index .Config.Labels \"dapp-artifact-builder\"}}", apiImage);
        Assert.StartsWith("sha256:", artifactLabel.Stdout.Trim());
    }

    [Fact]
    public async Task Changing_setup_rebuilds_only_from_setup_on()
    {
        await using var test = new TestProject(TwoDimgsAndAnArtifact);
        await test.BuildAsync("api");
        test.WriteDappfile(TwoDimgsAndAnArtifact.Replace("setup-1", "setup-2"));
        var second = await test.BuildAsync("api");
        Assert.Equal(["setup", "docker_instructions"], Built(second).Select(s => s.Stage));
        Assert.All(second.Stages.Where(s => s.State != StageState.Build), s => Assert.Equal(StageState.UsingCache, s.State));
        Assert.Equal(["from", "before_install", "install", "after_install_artifact"], second.Stages.Where(s => s.State == StageState.UsingCache).Select(s => s.Stage));

        using var project = await test.LoadAsync();
        var api = (await project.Conveyors.ForAsync(project.Dappfile.FindDimg("api")!, default));
        Assert.Equal("setup-2", await DockerCli.ShellAsync(project.Stages.ImageName(api.LastSignature), "cat /app/setup"));
    }

    [Fact]
    public async Task Stages_before_the_latest_present_one_are_reported_not_present_and_not_built()
    {
        await using var test = new TestProject(TwoDimgsAndAnArtifact);
        await test.BuildAsync("web");
        using var project = await test.LoadAsync();
        var web = (await project.Conveyors.ForAsync(project.Dappfile.FindDimg("web")!, default));
        await fixture.Engine.RemoveImageAsync(project.Stages.ImageName(web.Stages[0].Signature), force: true, default);
        var second = await test.BuildAsync("web");
        Assert.Equal([StageState.NotPresent, StageState.UsingCache], second.Stages.Select(s => s.State));
        Assert.False(await project.Stages.ExistsAsync(web.Stages[0].Signature, default));
    }

    [Fact]
    public async Task A_failing_command_fails_the_build_with_its_output_and_code_keeps_earlier_stages_and_leaves_no_container()
    {
        await using var test = new TestProject("""
            dimg: broken
            from: dapp-examples/busybox:1.35
            shell:
              beforeInstall: echo kept > /kept
              install:
              - echo "about to fail"
              - sh -c 'echo "failure details" >&2; exit 7'
              setup: echo never
            """);
        var result = await DappCli.RunAsync(test, "dimg", "build");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("about to fail", result.Stdout);
        Assert.Contains("failure details", result.Stdout);
        Assert.Contains("broken: stage install failed: a command exited with code 7", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);

        using var project = await test.LoadAsync();
        var conveyor = (await project.SelectConveyorsAsync([], default))[0];
        Assert.True(await project.Stages.ExistsAsync(conveyor.SignatureOf(StageName.From), default));
        Assert.True(await project.Stages.ExistsAsync(conveyor.SignatureOf(StageName.BeforeInstall), default));
        Assert.False(await project.Stages.ExistsAsync(conveyor.SignatureOf(StageName.Install), default));
        Assert.Empty(await DockerCli.ContainerNamesAsync($"{DappContainers.Prefix}{test.Name}."));

        var again = await DappCli.RunAsync(test, "dimg", "build");
        Assert.Contains(again.StdoutLines, l => l.Contains("before_install") && l.Contains("[USING CACHE]"));
    }

    [Fact]
    public async Task Two_concurrent_builds_build_each_stage_once()
    {
        await using var test = new TestProject("""
            dimg: slow
            from: dapp-examples/busybox:1.35
            shell:
              beforeInstall: sleep 1
              install: sleep 1 && date +%s%N > /stamp
              setup: sleep 1
            """);
        var runs = await Task.WhenAll(DappCli.RunAsync(test, "dimg", "build"), DappCli.RunAsync(test, "dimg", "build"));
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Stderr));
        var built = runs.SelectMany(r => r.StdoutLines).Where(l => l.Contains("[BUILD]")).ToList();
        Assert.Equal(4, built.Count);
        Assert.Equal(4, built.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]).Distinct().Count());
        Assert.All(runs, r => Assert.Equal(4, r.StdoutLines.Count(l => l.Contains("[BUILD]") || l.Contains("[USING CACHE]"))));
    }

    [Fact]
    public async Task A_missing_base_image_gives_a_clear_error()
    {
        await using var test = new TestProject("dimg: app\nfrom: dapp-missing/nothing:1\nshell:\n  install: 'true'\n");
        var result = await DappCli.RunAsync(test, "dimg", "build");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("app (dappfile.yml:2:7): cannot get the base image 'dapp-missing/nothing:1'", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task An_invalid_dappfile_is_reported_with_its_position_and_exit_code_1()
    {
        await using var test = new TestProject("dimg: app\nfrom: dapp-examples/busybox:1.35\nshell:\n  instal: make\n");
        var result = await DappCli.RunAsync(test, "dimg", "build");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Error: dappfile.yml:4:3: unknown key 'instal' in shell (allowed: beforeInstall, install, beforeSetup, setup, beforeInstallCacheVersion, installCacheVersion, beforeSetupCacheVersion, setupCacheVersion, cacheVersion)", result.Stderr.Trim());
    }

    // Not on rootless Podman here: the tests run dapp as root, the service as another user, who cannot reach the
    // directories root makes (a rootless host runs both as one user; docs/compatibility.md).
    [Fact]
    [Trait("rootless", "unsupported")]
    public async Task Mounts_tmp_dir_build_dir_and_host_paths_are_mounted_into_build_containers_and_not_kept_in_images()
    {
        var hostDir = Directory.CreateTempSubdirectory("dapp-it-host-").FullName;
        await File.WriteAllTextAsync(Path.Combine(hostDir, "input.txt"), "from-host");
        try
        {
            var dappfile = $$"""
                dimg: mounts
                from: dapp-examples/busybox:1.35
                mount:
                - {to: /cache, from: build_dir}
                - {to: /scratch, from: tmp_dir}
                - {to: /host, fromPath: {{hostDir}}}
                shell:
                  install:
                  - echo run >> /cache/runs
                  - test ! -e /scratch/leftover
                  - echo x > /scratch/leftover
                  - cp /host/input.txt /copied
                  setup: echo SETUP_1 > /setup
                """;
            await using var test = new TestProject(dappfile);
            await test.BuildAsync();
            test.WriteDappfile(dappfile.Replace("SETUP_1", "SETUP_2").Replace("install:\n", "install:\n  - echo second >> /cache/runs\n"));
            await test.BuildAsync();
            Assert.Equal("run\nsecond\nrun", await File.ReadAllTextAsync(Path.Combine(test.Dir, ".build", "mount", Directory.GetDirectories(Path.Combine(test.Dir, ".build", "mount"))[0].Split('/')[^1], "runs")).ContinueWith(t => t.Result.Trim()));

            using var project = await test.LoadAsync();
            var image = project.Stages.ImageName((await project.SelectConveyorsAsync([], default))[0].LastSignature);
            Assert.Equal("from-host|0|0", await DockerCli.ShellAsync(image, "echo $(cat /copied)'|'$(ls /cache 2>/dev/null | wc -l)'|'$(ls /scratch 2>/dev/null | wc -l)"));
        }
        finally
        {
            Directory.Delete(hostDir, true);
        }
    }

    [Fact]
    public async Task FromDimg_and_fromDimgArtifact_build_on_the_other_images_last_stage_and_commands_run_as_root()
    {
        await using var test = new TestProject("""
            dimg: base
            from: dapp-examples/busybox:1.35
            shell:
              install: echo base > /base
            docker:
              USER: app
              WORKDIR: /tmp
              ENTRYPOINT: [/bin/echo, entry]
            ---
            artifact: tools
            from: dapp-examples/busybox:1.35
            shell:
              install: echo tools > /tools
            ---
            dimg: child
            fromDimg: base
            shell:
              install: id -u > /uid && pwd > /pwd
            ---
            dimg: onartifact
            fromDimgArtifact: tools
            shell:
              install: cat /tools > /copy
            """);
        var reporter = await test.BuildAsync("child", "onartifact");
        Assert.Contains(reporter.Stages, s => s.Image == "base" && s.State == StageState.Build);
        using var project = await test.LoadAsync();
        var child = project.Stages.ImageName((await project.Conveyors.ForAsync(project.Dappfile.FindDimg("child")!, default)).LastSignature);
        Assert.Equal("base|0|/", await DockerCli.ShellAsync(child, "echo $(cat /base)'|'$(cat /uid)'|'$(cat /pwd)"));
        var config = await DockerCli.RunAsync("inspect", "--format", "{{.Config.User}} {{.Config.WorkingDir}} {{json .Config.Entrypoint}}", child);
        Assert.Equal("app /tmp [\"/bin/echo\",\"entry\"]", config.Stdout.Trim());
        var onArtifact = project.Stages.ImageName((await project.Conveyors.ForAsync(project.Dappfile.FindDimg("onartifact")!, default)).LastSignature);
        Assert.Equal("tools", await DockerCli.ShellAsync(onArtifact, "cat /copy"));
    }

    [Fact]
    public async Task Imports_before_install_and_after_setup_with_owner_group_and_include_paths()
    {
        await using var test = new TestProject("""
            artifact: files
            from: dapp-examples/busybox:1.35
            shell:
              install:
              - mkdir -p /src/keep/sub /src/drop
              - echo a > /src/keep/sub/a.txt
              - echo b > /src/drop/b.txt
              - echo c > /src/top.txt
              - ln -s keep/sub/a.txt /src/link
            ---
            dimg: app
            from: dapp-examples/busybox:1.35
            import:
            - {artifact: files, add: /src, to: /early, includePaths: [keep, link], before: install}
            - {artifact: files, add: /src/top.txt, to: /late/top.txt, owner: app, group: app, after: setup}
            shell:
              install: cat /early/keep/sub/a.txt > /seen-in-install
              setup: echo s
            """);
        var reporter = await test.BuildAsync();
        Assert.Equal(["from", "before_install_artifact", "install", "setup", "after_setup_artifact"],
            reporter.Stages.Where(s => s.Image == "app").Select(s => s.Stage));
        using var project = await test.LoadAsync();
        var image = project.Stages.ImageName((await project.SelectConveyorsAsync([], default))[0].LastSignature);
        Assert.Equal("a|no-drop|a|c|app:app",
            await DockerCli.ShellAsync(image, "echo $(cat /seen-in-install)'|'$(test -e /early/drop && echo drop || echo no-drop)'|'$(cat /early/link)'|'$(cat /late/top.txt)'|'$(stat -c %U:%G /late/top.txt)"));
    }

    [Fact]
    public async Task Dry_run_reports_what_would_be_built_and_builds_nothing()
    {
        await using var test = new TestProject(TwoDimgsAndAnArtifact);
        using var project = await test.LoadAsync();
        var reporter = new RecordingReporter();
        await BuildCommand.RunAsync(project, ["api"], new BuildOptions { DryRun = true }, StagesStorageOption.Local, reporter, default);
        Assert.Contains(reporter.Stages, s => s.Image == "artifact builder" && s.State == StageState.Build);
        Assert.Empty(await project.Stages.ListAsync(default));
    }

    [Fact]
    public async Task Interrupting_a_build_removes_its_container()
    {
        await using var test = new TestProject("dimg: long\nfrom: dapp-examples/busybox:1.35\nshell:\n  install: echo started && sleep 60\n");
        using var process = DappCli.Start(test.Dir, new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir }, "dimg", "build", "--name", test.Name);
        var stdout = new List<string>();
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            stdout.Add(line);
            if (line.Contains("started")) break;
        }
        Assert.Contains(stdout, l => l.Contains("started"));
        Assert.Single(await DockerCli.ContainerNamesAsync($"{DappContainers.Prefix}{test.Name}."));
        System.Diagnostics.Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(130, process.ExitCode);
        Assert.Empty(await DockerCli.ContainerNamesAsync($"{DappContainers.Prefix}{test.Name}."));
    }
}
