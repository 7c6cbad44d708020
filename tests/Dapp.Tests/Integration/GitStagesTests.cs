using System.Security.Cryptography;
using Dapp.Commands;
using Dapp.Reporting;
using Dapp.Stages;

namespace Dapp.Tests.Integration;

/// <summary>Git stages on repositories the tests create (the project's own, and remote ones over file://).</summary>
[Collection(EngineCollection.Name)]
public class GitStagesTests
{
    private static string Dappfile(string beforeInstall = "", string install = "echo install", string beforeSetup = "echo before-setup",
        string setup = "echo setup", string fromCacheVersion = "1") => $"""
        dimg: app
        from: dapp-examples/busybox:1.35
        fromCacheVersion: "{fromCacheVersion}"
        git:
        - add: /src
          to: /app
          owner: app
          group: app
          stageDependencies:
            install: [deps.txt]
        - add: /
          to: /filtered
          includePaths: [src, docs]
          excludePaths: ["**/*.log", docs/private]
        shell:
        {(beforeInstall.Length > 0 ? $"  beforeInstall: {beforeInstall}\n" : "")}  install: {install}
          beforeSetup: {beforeSetup}
          setup: {setup}
        """;

    private sealed record Snapshot(IReadOnlyList<(string Stage, string Signature, string ImageId)> Stages)
    {
        public int IndexOf(string stage) => Stages.ToList().FindIndex(s => s.Stage == stage);
    }

    private static async Task<Snapshot> SnapshotAsync(TestProject test)
    {
        using var project = await test.LoadAsync();
        var conveyor = (await project.SelectConveyorsAsync([], default))[0];
        var stages = new List<(string, string, string)>();
        foreach (var stage in conveyor.Stages)
            stages.Add((stage.Name.DappName(), stage.Signature, (await project.Stages.InspectAsync(stage.Signature, default))!.ID));
        return new Snapshot(stages);
    }

    /// <summary>Every stage before <paramref name="firstChanged"/> keeps its signature and image; that stage and the last one change.</summary>
    private static void AssertChangedFrom(Snapshot before, Snapshot after, string firstChanged)
    {
        var index = after.IndexOf(firstChanged);
        Assert.True(index >= 0, $"{firstChanged} is not a stage now: {string.Join(", ", after.Stages.Select(s => s.Stage))}");
        for (int i = 0; i < index; i++)
            Assert.Equal(before.Stages[i], after.Stages[i]);
        var old = before.IndexOf(firstChanged);
        if (old >= 0) Assert.NotEqual(before.Stages[old].Signature, after.Stages[index].Signature);
        Assert.NotEqual(before.Stages[^1].Signature, after.Stages[^1].Signature);
    }

    private static async Task AssertImageMatchesRepoAsync(TestProject test, GitRepo repo)
    {
        using var project = await test.LoadAsync();
        var image = project.Stages.ImageName((await project.SelectConveyorsAsync([], default))[0].LastSignature);
        var app = await DockerCli.ShellAsync(image, GitRepo.ListingScript("/app"));
        Assert.Equal(string.Join('\n', await repo.TreeListingAsync("src")), app);
        var owners = await DockerCli.ShellAsync(image, "find /app | xargs stat -c %U:%G | sort -u");
        Assert.Equal("app:app", owners);
        var filtered = await DockerCli.ShellAsync(image, GitRepo.ListingScript("/filtered"));
        var expected = await repo.TreeListingAsync("", p => (p == "src" || p.StartsWith("src/") || p == "docs" || p.StartsWith("docs/"))
            && !p.EndsWith(".log") && p != "docs/private" && !p.StartsWith("docs/private/"));
        Assert.Equal(string.Join('\n', expected), filtered);
    }

    [Fact]
    public async Task Signature_matrix_of_dapps_integration_test_and_the_image_always_equals_the_commit()
    {
        await using var test = new TestProject(Dappfile());
        var repo = await GitRepo.InitAsync(test.Dir);
        repo.Write("src/app.rb", "puts 1\n");
        repo.Write("src/lib/util.rb", "def util; end\n");
        repo.Write("src/deps.txt", "rack 1.0\n");
        repo.Write("src/bin/run", "#!/bin/sh\necho run\n");
        File.SetUnixFileMode(Path.Combine(test.Dir, "src/bin/run"), (UnixFileMode)0b111_101_101);
        repo.Write("src/debug.log", "log\n");
        repo.Write("docs/readme.md", "docs\n");
        repo.Write("docs/private/secret.md", "secret\n");
        repo.Write("other/ignored.txt", "not selected\n");
        File.CreateSymbolicLink(Path.Combine(test.Dir, "src/current"), "app.rb");
        await File.WriteAllTextAsync(Path.Combine(test.Dir, ".gitignore"), "dappfile.yml\n.build/\n.home*/\n");
        await repo.CommitAsync("initial");

        var first = await test.BuildAsync();
        Assert.Contains(first.Stages, s => s.Stage == "g_a_archive" && s.State == StageState.Build);
        var baseline = await SnapshotAsync(test);
        Assert.Equal(["from", "g_a_archive", "g_a_pre_install_patch", "install", "g_a_post_install_patch", "before_setup",
            "g_a_pre_setup_patch", "setup", "g_a_post_setup_patch"], baseline.Stages.Select(s => s.Stage));
        await AssertImageMatchesRepoAsync(test, repo);

        // A plain commit: modified, added, deleted, renamed files, a mode change, a new symlink, a binary file.
        repo.Write("src/app.rb", "puts 2\n");
        repo.Write("src/new/added.rb", "added\n");
        File.Delete(Path.Combine(test.Dir, "src/lib/util.rb"));
        File.Move(Path.Combine(test.Dir, "src/debug.log"), Path.Combine(test.Dir, "src/renamed.txt"));
        File.SetUnixFileMode(Path.Combine(test.Dir, "src/app.rb"), (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(Path.Combine(test.Dir, "src/to-bin"), "bin/run");
        repo.WriteBytes("src/data.bin", [0, 1, 2, 255, 254, 0, 10, 13]);
        await repo.CommitAsync("plain change");
        var reporter = await test.BuildAsync();
        Assert.Equal(["g_a_latest_patch"], reporter.Stages.Where(s => s.State == StageState.Build).Select(s => s.Stage));
        var plain = await SnapshotAsync(test);
        AssertChangedFrom(baseline, plain, "g_a_latest_patch");
        await AssertImageMatchesRepoAsync(test, repo);
        Assert.Equal("1", await DockerCli.ShellAsync((await test.LoadAsync()).Stages.ImageName(plain.Stages[^1].Signature), "test -d /app/lib && echo 0 || echo 1"));

        // More than 1 MiB of change moves g_a_post_setup_patch.
        repo.WriteBytes("src/big.bin", RandomNumberGenerator.GetBytes(1_300_000));
        await repo.CommitAsync("big change");
        await test.BuildAsync();
        var big = await SnapshotAsync(test);
        AssertChangedFrom(plain, big, "g_a_post_setup_patch");
        await AssertImageMatchesRepoAsync(test, repo);

        test.WriteDappfile(Dappfile(setup: "echo setup-2"));
        await test.BuildAsync();
        var setup = await SnapshotAsync(test);
        AssertChangedFrom(big, setup, "g_a_pre_setup_patch");

        test.WriteDappfile(Dappfile(setup: "echo setup-2", beforeSetup: "echo before-setup-2"));
        await test.BuildAsync();
        var beforeSetup = await SnapshotAsync(test);
        AssertChangedFrom(setup, beforeSetup, "g_a_post_install_patch");

        test.WriteDappfile(Dappfile(setup: "echo setup-2", beforeSetup: "echo before-setup-2", install: "echo install-2"));
        await test.BuildAsync();
        var install = await SnapshotAsync(test);
        AssertChangedFrom(beforeSetup, install, "g_a_pre_install_patch");
        await AssertImageMatchesRepoAsync(test, repo);

        repo.Write("src/app.rb", "puts 3\n");
        await repo.CommitAsync("start over [dapp reset]");
        await test.BuildAsync();
        var reset = await SnapshotAsync(test);
        AssertChangedFrom(install, reset, "g_a_archive");
        await AssertImageMatchesRepoAsync(test, repo);

        test.WriteDappfile(Dappfile(setup: "echo setup-2", beforeSetup: "echo before-setup-2", install: "echo install-2", beforeInstall: "echo bi"));
        await test.BuildAsync();
        var beforeInstall = await SnapshotAsync(test);
        AssertChangedFrom(reset, beforeInstall, "before_install");

        test.WriteDappfile(Dappfile(setup: "echo setup-2", beforeSetup: "echo before-setup-2", install: "echo install-2", beforeInstall: "echo bi", fromCacheVersion: "2"));
        await test.BuildAsync();
        var from = await SnapshotAsync(test);
        AssertChangedFrom(beforeInstall, from, "from");
        await AssertImageMatchesRepoAsync(test, repo);
    }

    /// <summary>The archive stage's image: its engine parent ("" when it was loaded as a layer), the created_by of its newest history entry, its layer count.</summary>
    private static async Task<(string Parent, string CreatedBy, int Layers)> ArchiveImageAsync(TestProject test, string stage = "g_a_archive")
    {
        using var project = await test.LoadAsync();
        var conveyor = (await project.SelectConveyorsAsync([], default))[0];
        var image = project.Stages.ImageName(conveyor.SignatureOf(StageNames.Parse(stage)!.Value));
        var inspect = (await DockerCli.RunAsync("image", "inspect", "-f", "{{.Parent}}|{{len .RootFS.Layers}}", image)).Stdout.Trim().Split('|');
        var history = (await DockerCli.RunAsync("history", "--no-trunc", "--format", "{{.CreatedBy}}", image)).Stdout.Split('\n')[0];
        return (inspect[0], history, int.Parse(inspect[1]));
    }

    [Fact]
    public async Task The_archive_stage_is_its_archive_loaded_as_a_layer_and_a_file_named_as_a_whiteout_is_an_error()
    {
        const string dappfile = """
            dimg: app
            from: dapp-examples/busybox:1.35
            git:
            - add: /src
              to: /app
            shell:
              install: ls -R /app > /installed.txt
            """;
        await using var test = new TestProject(dappfile);
        var repo = await GitRepo.InitAsync(test.Dir);
        repo.Write("src/a.txt", "a\n");
        repo.Write("src/deep/er/b.txt", "b\n");
        repo.Write("src/run.sh", "#!/bin/sh\necho run\n");
        await repo.GitAsync("update-index", "--add", "--chmod=+x", "src/run.sh");
        File.CreateSymbolicLink(Path.Combine(test.Dir, "src/link"), "a.txt");
        // Names past the tar header's 100 bytes, and not ASCII: the layer's and the patches' tars carry them whole.
        var longDir = "src/" + string.Join('/', Enumerable.Repeat("a-rather-long-directory-name", 6));
        repo.Write(longDir + "/file.txt", "long\n");
        repo.Write("src/ünïcødé/файл.txt", "unicode\n");
        File.CreateSymbolicLink(Path.Combine(test.Dir, "src/long-link"), longDir[4..] + "/file.txt");
        await repo.CommitAsync("initial");
        await test.BuildAsync();

        var (parent, createdBy, layers) = await ArchiveImageAsync(test);
        var (_, _, fromLayers) = await ArchiveImageAsync(test, "from");
        // On Podman, whose load wants every layer's file, the stage is built in a container (docs/compatibility.md): a parent, the same files.
        if (!await DockerCli.IsPodmanAsync(null))
        {
            Assert.Equal("", parent);
            Assert.Equal("dapp: app: stage g_a_archive", createdBy);
        }
        Assert.Equal(fromLayers + 1, layers);
        using (var project = await test.LoadAsync())
        {
            var conveyor = (await project.SelectConveyorsAsync([], default))[0];
            var archive = project.Stages.ImageName(conveyor.SignatureOf(StageName.GAArchive));
            var last = project.Stages.ImageName(conveyor.LastSignature);
            var expected = string.Join('\n', await repo.TreeListingAsync("src"));
            Assert.Equal(expected, await DockerCli.ShellAsync(archive, GitRepo.ListingScript("/app")));
            Assert.Equal(expected, await DockerCli.ShellAsync(last, GitRepo.ListingScript("/app")));
            Assert.Contains("run.sh", await DockerCli.ShellAsync(last, "cat /installed.txt"));
            // The stages after it are committed on it, and the engine's history reaches it.
            var history = (await DockerCli.RunAsync("history", "-q", "--no-trunc", last)).Stdout;
            // (Podman's history shows IDs without "sha256:".)
            Assert.Contains((await project.Stages.InspectAsync(conveyor.SignatureOf(StageName.GAArchive), default))!.ID["sha256:".Length..], history);
        }
        Assert.All((await test.BuildAsync()).Stages, s => Assert.Equal(StageState.UsingCache, s.State));

        // The patch after it (a container) writes, changes and deletes such names too.
        repo.Write(longDir + "/file.txt", "longer\n");
        repo.Write(longDir + "/another-file-with-a-long-name.txt", "another\n");
        File.Delete(Path.Combine(test.Dir, "src/ünïcødé/файл.txt"));
        repo.Write("src/ünïcødé/новый.txt", "new\n");
        await repo.CommitAsync("patch");
        Assert.Contains((await test.BuildAsync()).Stages, s => s.Stage == "g_a_latest_patch" && s.State == StageState.Build);
        using (var project = await test.LoadAsync())
        {
            var last = project.Stages.ImageName((await project.SelectConveyorsAsync([], default))[0].LastSignature);
            Assert.Equal(string.Join('\n', await repo.TreeListingAsync("src")), await DockerCli.ShellAsync(last, GitRepo.ListingScript("/app")));
        }

        // A file an image layer would read as a deletion (in a container's commit too): an error naming it, and no stage.
        await using var whiteout = new TestProject(dappfile);
        var other = await GitRepo.InitAsync(whiteout.Dir);
        other.Write("src/.wh.keep", "kept\n");
        other.Write("src/a.txt", "a\n");
        await other.CommitAsync("initial");
        var error = await Assert.ThrowsAsync<DappException>(() => whiteout.BuildAsync());
        Assert.Contains("src/.wh.keep cannot be put into an image", error.Message);
        Assert.Contains("excludePaths", error.Message);
        using var built = await whiteout.LoadAsync();
        Assert.Null(await built.Stages.InspectAsync((await built.SelectConveyorsAsync([], default))[0].SignatureOf(StageName.GAArchive), default));
    }

    [Fact]
    public async Task Stage_dependencies_rerun_their_stage_only_when_a_matched_file_changes()
    {
        await using var test = new TestProject(Dappfile());
        var repo = await GitRepo.InitAsync(test.Dir);
        repo.Write("src/deps.txt", "rack 1.0\n");
        repo.Write("src/app.rb", "puts 1\n");
        await repo.CommitAsync("initial");
        await test.BuildAsync();
        var before = await SnapshotAsync(test);

        repo.Write("src/app.rb", "puts 2\n");
        await repo.CommitAsync("code only");
        var codeOnly = await test.BuildAsync();
        Assert.Equal(["g_a_latest_patch"], codeOnly.Stages.Where(s => s.State == StageState.Build).Select(s => s.Stage));

        repo.Write("src/deps.txt", "rack 2.0\n");
        await repo.CommitAsync("dependency");
        var deps = await test.BuildAsync();
        Assert.Contains(deps.Stages, s => s.Stage == "install" && s.State == StageState.Build);
        AssertChangedFrom(before, await SnapshotAsync(test), "g_a_pre_install_patch");
        using var project = await test.LoadAsync();
        var image = project.Stages.ImageName((await project.SelectConveyorsAsync([], default))[0].SignatureOf(StageName.Install));
        Assert.Equal("rack 2.0", await DockerCli.ShellAsync(image, "cat /app/deps.txt"));
    }

    [Fact]
    public async Task Remote_file_git_paths_with_a_branch_and_a_tag_follow_upstream()
    {
        var upstreamDir = Directory.CreateTempSubdirectory("dapp-upstream-").FullName;
        try
        {
            var upstream = await GitRepo.InitAsync(Path.Combine(upstreamDir, "lib.git"), branch: "main");
            upstream.Write("lib.txt", "v1\n");
            await upstream.CommitAsync("v1");
            await upstream.GitAsync("tag", "v1.0");
            await upstream.GitAsync("checkout", "-q", "-b", "stable");
            upstream.Write("lib.txt", "stable\n");
            await upstream.CommitAsync("stable");
            await upstream.GitAsync("checkout", "-q", "main");

            var url = "file://" + upstream.Dir;
            await using var test = new TestProject($"""
                dimg: app
                from: dapp-examples/busybox:1.35
                git:
                - url: {url}
                  branch: stable
                  to: /stable
                - url: {url}
                  tag: v1.0
                  to: /tagged
                - url: {url}
                  to: /default
                """);
            var home = Path.Combine(test.Dir, ".home");
            var result = await DappCli.RunAsync(test, "dimg", "build");
            Assert.True(result.ExitCode == 0, result.Stderr);
            using var project = await test.LoadAsync();
            string Image(Conveyor c) => project.Stages.ImageName(c.LastSignature);
            var conveyor = (await project.SelectConveyorsAsync([], default))[0];
            Assert.Equal("stable|v1|v1", await DockerCli.ShellAsync(Image(conveyor), "echo $(cat /stable/lib.txt)'|'$(cat /tagged/lib.txt)'|'$(cat /default/lib.txt)"));
            Assert.True(Directory.EnumerateDirectories(Path.Combine(home, "git_repo")).Any(), "remote repositories are cached under DAPP_HOME/git_repo");

            await upstream.GitAsync("checkout", "-q", "stable");
            upstream.Write("lib.txt", "stable 2\n");
            await upstream.CommitAsync("stable 2");
            var again = await DappCli.RunAsync(test, "dimg", "build");
            Assert.True(again.ExitCode == 0, again.Stderr);
            Assert.Equal(["g_a_latest_patch"], again.StdoutLines.Where(l => l.EndsWith("[BUILD]")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));
            using var reloaded = await test.LoadAsync();
            var latest = reloaded.Stages.ImageName((await reloaded.SelectConveyorsAsync([], default))[0].LastSignature);
            Assert.Equal("stable 2|v1", await DockerCli.ShellAsync(latest, "echo $(cat /stable/lib.txt)'|'$(cat /tagged/lib.txt)"));
        }
        finally
        {
            Directory.Delete(upstreamDir, true);
        }
    }

    [Fact]
    public async Task A_rebased_away_recorded_commit_leads_to_a_rebuild_with_an_explanation()
    {
        await using var test = new TestProject(Dappfile());
        var repo = await GitRepo.InitAsync(test.Dir);
        await File.WriteAllTextAsync(Path.Combine(test.Dir, ".gitignore"), "dappfile.yml\n.build/\n.home*/\n");
        repo.Write("src/app.rb", "puts 1\n");
        await repo.CommitAsync("initial");
        repo.Write("src/app.rb", "puts 2\n");
        await repo.CommitAsync("second");
        await test.BuildAsync();

        await repo.GitAsync("reset", "-q", "--hard", "HEAD~1");
        repo.Write("src/app.rb", "puts rebased\n");
        await repo.CommitAsync("rewritten second");
        await repo.GitAsync("reflog", "expire", "--expire=now", "--all");
        await repo.GitAsync("gc", "-q", "--prune=now");

        var result = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("no longer exists there (rebased or force-pushed?)", result.Stderr);
        Assert.Contains(result.StdoutLines, l => l.Contains("g_a_archive") && l.EndsWith("[BUILD]"));
        await AssertImageMatchesRepoAsync(test, repo);
    }

    [Fact]
    public async Task Tag_branch_and_commit_and_the_project_name_from_origin()
    {
        await using var test = new TestProject("dimg: app\nfrom: dapp-examples/busybox:1.35\nshell:\n  install: echo x\n");
        var repo = await GitRepo.InitAsync(test.Dir, branch: "Feature_Login");
        await repo.GitAsync("remote", "add", "origin", "git@gitlab.example.com:group/Taxi_Backend.git");
        var head = await repo.CommitAsync("initial");
        using (var project = await Dapp.Commands.DappProject.LoadAsync(new ProjectOptions { Dir = test.Dir }, default))
            Assert.Equal(Dapp.Config.Slug.Make("Taxi_Backend"), project.Name);
        await test.BuildAsync();
        var repoName = $"localhost:5000/{test.Name}";
        var tagged = await DappCli.RunAsync(test, "dimg", "tag", repoName, "--tag-branch", "--tag-commit");
        Assert.True(tagged.ExitCode == 0, tagged.Stderr);
        var branchTag = Dapp.Config.Slug.Make("Feature_Login");
        var schemes = await DockerCli.RunAsync("inspect", "--format", "{{index .Config.Labels \"dapp-tag-scheme\"}}", $"{repoName}/app:{branchTag}", $"{repoName}/app:{head}");
        Assert.Equal(["git_branch", "git_commit"], schemes.StdoutLines);

        await repo.GitAsync("checkout", "-q", "--detach");
        var detached = await DappCli.RunAsync(test, "dimg", "tag", repoName, "--tag-branch");
        Assert.Equal(1, detached.ExitCode);
        Assert.Contains("HEAD is detached", detached.Stderr);
    }

    [Fact]
    public async Task A_git_add_path_missing_from_the_commit_is_warned_about_by_name()
    {
        await using var test = new TestProject("dimg: app\nfrom: dapp-examples/busybox:1.35\ngit:\n- add: /sources\n  to: /app\n");
        var repo = await GitRepo.InitAsync(test.Dir);
        repo.Write("src/main.c", "int main;");
        await repo.CommitAsync("the code is in src, not sources");
        var result = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("git add '/sources' (dappfile.yml:4:3) does not exist in the project's repository", result.Stderr);
    }

    [Fact]
    public async Task Submodules_are_in_the_image_a_commit_moving_one_rebuilds_only_the_latest_patch_and_an_unpushed_one_is_named()
    {
        var upstreams = Directory.CreateTempSubdirectory("dapp-submodule-").FullName;
        try
        {
            // lib (a submodule of the project) has a submodule of its own, nested, which the project never initialises:
            // dapp fetches it from its URL, relative to lib's.
            var nested = await GitRepo.InitAsync(Path.Combine(upstreams, "nested"), branch: "main");
            nested.Write("n.txt", "nested\n");
            await nested.CommitAsync("nested");
            var lib = await GitRepo.InitAsync(Path.Combine(upstreams, "lib"), branch: "main");
            lib.Write("lib.txt", "lib 1\n");
            lib.Write("tools/run.sh", "#!/bin/sh\n");
            File.SetUnixFileMode(Path.Combine(lib.Dir, "tools/run.sh"), (UnixFileMode)0b111_101_101);
            await lib.GitAsync("-c", "protocol.file.allow=always", "submodule", "add", "-q", "../nested", "deps/nested");
            await lib.CommitAsync("lib");

            const string dappfile = "dimg: app\nfrom: dapp-examples/busybox:1.35\ngit:\n- add: /src\n  to: /app\nshell:\n  install: echo install\n";
            await using var test = new TestProject(dappfile);
            var repo = await GitRepo.InitAsync(test.Dir);
            repo.Write("src/main.txt", "main\n");
            await repo.GitAsync("-c", "protocol.file.allow=always", "submodule", "add", "-q", Path.Combine(upstreams, "lib"), "src/lib");
            await repo.CommitAsync("with a submodule");

            var first = await DappCli.RunAsync(test, "dimg", "build");
            Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
            var image = $"{test.Name}/app";
            using (var project = await test.LoadAsync())
                image = project.Stages.ImageName((await project.SelectConveyorsAsync([], default))[0].LastSignature);
            Assert.Equal(string.Join('\n', "D ./lib", "D ./lib/deps", "D ./lib/deps/nested", "D ./lib/tools", "F ./lib/.gitmodules", "F ./lib/deps/nested/n.txt",
                    "F ./lib/lib.txt", "F ./lib/tools/run.sh x", "F ./main.txt"),
                await DockerCli.ShellAsync(image, "cd /app && find . -mindepth 1 | while read f; do if [ -d \"$f\" ]; then echo \"D $f\"; "
                    + "else echo \"F $f$([ -x \"$f\" ] && echo ' x')\"; fi; done | LC_ALL=C sort"));
            Assert.Equal("lib 1|nested", await DockerCli.ShellAsync(image, "echo \"$(cat /app/lib/lib.txt)|$(cat /app/lib/deps/nested/n.txt)\""));

            // The submodule moves: a file changed, one deleted (its directory goes with it), one added.
            lib.Write("lib.txt", "lib 2\n");
            lib.Write("new.txt", "new\n");
            await lib.GitAsync("rm", "-q", "tools/run.sh");
            await lib.CommitAsync("lib moves on");
            await repo.GitAsync("-C", "src/lib", "pull", "-q", "origin", "main");
            await repo.CommitAsync("move the submodule");
            var second = await DappCli.RunAsync(test, "dimg", "build");
            Assert.True(second.ExitCode == 0, second.Stderr + second.Stdout);
            Assert.Equal(["g_a_latest_patch"], second.StdoutLines.Where(l => l.EndsWith("[BUILD]")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));
            using (var project = await test.LoadAsync())
                image = project.Stages.ImageName((await project.SelectConveyorsAsync([], default))[0].LastSignature);
            Assert.Equal("lib 2|new|no tools", await DockerCli.ShellAsync(image,
                "echo \"$(cat /app/lib/lib.txt)|$(cat /app/lib/new.txt)|$([ -e /app/lib/tools ] && echo tools || echo no tools)\""));

            // A commit the submodule's repository does not have (committed in a clone, never pushed).
            var unpushed = "0123456789abcdef0123456789abcdef01234567";
            await repo.GitAsync("update-index", "--cacheinfo", $"160000,{unpushed},src/lib");
            await repo.GitAsync("commit", "-q", "-m", "points at an unpushed commit");
            var refused = await DappCli.RunAsync(test, "dimg", "build");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains($"git path (dappfile.yml:4:3) to /app: submodule src/lib ({Path.Combine(upstreams, "lib")}): commit 0123456789ab", refused.Stderr);
            Assert.Contains("is not in the submodule's repository", refused.Stderr);
            Assert.DoesNotContain("   at ", refused.Stderr);

            // A submodule left out by excludePaths is never read.
            test.WriteDappfile(dappfile.Replace("  to: /app\n", "  to: /app\n  excludePaths: [lib]\n"));
            var excluded = await DappCli.RunAsync(test, "dimg", "build");
            Assert.True(excluded.ExitCode == 0, excluded.Stderr + excluded.Stdout);
        }
        finally
        {
            Directory.Delete(upstreams, recursive: true);
        }
    }
}
