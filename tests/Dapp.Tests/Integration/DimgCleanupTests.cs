using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Storage;
using Dapp.Registry.Model;

namespace Dapp.Tests.Integration;

/// <summary>
/// <c>dapp dimg cleanup repo</c>, <c>stages cleanup local</c>, <c>--improper-git-commit</c> and <c>mrproper</c> through the
/// CLI on the real engine and registry (docs/cleanup.md).
/// </summary>
[Collection(EngineCollection.Name)]
public class DimgCleanupTests
{
    private readonly string _repo = $"127.0.0.1:5000/dimg-cleanup/{Guid.NewGuid():N}";
    private readonly string _marker = Guid.NewGuid().ToString("N");

    private string Dappfile() => $"""
        dimg: app
        from: dapp-examples/busybox:1.35
        git:
        - add: /src
          to: /app
        shell:
          install: echo {_marker} > /marker
          setup: ls /app > /listing
        """;

    private static async Task<CliResult> OkAsync(TestProject test, params string[] args)
    {
        var result = await DappCli.RunAsync(test, args);
        Assert.True(result.ExitCode == 0, $"dapp {string.Join(' ', args)}: {result.Stderr}{result.Stdout}");
        return result;
    }

    private async Task<IReadOnlyList<string>> DimgTagsAsync()
    {
        using var client = new RegistryClient();
        return (await RegistryStagesStorage.ListTagsAsync(new Dapp.Registry.Remote.RemoteRepository(client, RepositoryName.Parse($"{_repo}/app")), default)).Order().ToList();
    }

    /// <summary>The stage tags of the project's chain at the work tree's HEAD.</summary>
    private static async Task<IReadOnlyList<string>> ChainAsync(TestProject test)
    {
        using var project = await test.LoadAsync();
        return (await project.SelectConveyorsAsync([], default))[0].Stages.Select(s => RegistryStagesStorage.Tag(s.Signature)).Order().ToList();
    }

    private static async Task<GitRepo> InitAsync(TestProject test)
    {
        var git = await GitRepo.InitAsync(test.Dir, branch: "main");
        git.Write(".gitignore", ".home*\n.build\n");
        git.Write("src/a.txt", "a\n");
        await git.CommitAsync("a");
        return git;
    }

    /// <summary>
    /// Six commits, each built and followed by a cleanup: REPO keeps exactly the live chain, not an older commit's
    /// docker_instructions stage (it adds no layer, so its layers begin the live image's).
    /// </summary>
    [Fact]
    public async Task Six_commits_each_followed_by_a_cleanup_with_stages_keep_exactly_the_live_chain()
    {
        await using var test = new TestProject(Dappfile() + "\ndocker:\n  CMD: [\"cat\", \"/listing\"]\n");
        var git = await InitAsync(test);
        for (int commit = 0; commit < 6; commit++)
        {
            git.Write("src/a.txt", $"{commit}\n");
            await git.CommitAsync($"c{commit}");
            await OkAsync(test, "dimg", "bp", "--stages-storage", _repo, "--tag-branch", _repo);
            await OkAsync(test, "dimg", "cleanup", "repo", "--with-stages", "--keep-younger-than", "0s", _repo);
            Assert.Equal(await ChainAsync(test), (await StageTags.ListAsync(_repo)).Order().ToList());
            Assert.Equal(["main"], await DimgTagsAsync());
        }
        await StageTags.AssertCompleteAsync(_repo, "after six rounds");
    }

    [Fact]
    public async Task A_deleted_branch_loses_its_tag_then_its_stages_in_the_repo_and_on_the_host()
    {
        await using var test = new TestProject(Dappfile());
        var git = await InitAsync(test);
        await OkAsync(test, "dimg", "bp", "--with-stages", "--tag-branch", _repo);
        await git.GitAsync("checkout", "-q", "-b", "feature");
        git.Write("src/b.txt", "b\n");
        await git.CommitAsync("b");
        await OkAsync(test, "dimg", "bp", "--with-stages", "--tag-branch", _repo);
        await git.GitAsync("checkout", "-q", "main");
        await git.GitAsync("branch", "-q", "-D", "feature");
        Assert.Equal(["feature", "main"], await DimgTagsAsync());
        var allStages = (await StageTags.ListAsync(_repo)).Order().ToList();
        var main = await ChainAsync(test);
        Assert.True(allStages.Count > main.Count);

        var dry = await OkAsync(test, "dimg", "cleanup", "repo", "--dry-run", _repo);
        Assert.Contains(dry.StdoutLines, l => l.StartsWith($"would delete {_repo}/app:feature: branch feature no longer exists; built ") && l.EndsWith(" s ago"));
        Assert.Contains("would delete 1 of 2 dimg tag(s)", dry.Stdout);
        Assert.Equal(["feature", "main"], await DimgTagsAsync());

        await OkAsync(test, "dimg", "cleanup", "repo", _repo);
        Assert.Equal(["main"], await DimgTagsAsync());

        var graced = await OkAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", _repo);
        Assert.Contains("deleted 0 of", graced.Stdout);
        Assert.Equal(allStages, (await StageTags.ListAsync(_repo)).Order());

        await OkAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", "0s", _repo);
        Assert.Equal(main, (await StageTags.ListAsync(_repo)).Order());
        await StageTags.AssertCompleteAsync(_repo, "after the stages cleanup");

        await OkAsync(test, "dimg", "stages", "cleanup", "local", "--improper-repo-cache", "--keep-younger-than", "0s", _repo);
        using (var project = await test.LoadAsync())
            Assert.Equal(main, (await project.Stages.ListSignaturesAsync(default)).Select(RegistryStagesStorage.Tag).Order());

        // A fresh host warms its cache from what is left and builds nothing.
        await using var host = await FreshEngine.StartAsync();
        await host.LoadBaseImageAsync();
        var env = host.Environment(test);
        var pull = await DappCli.RunAsync(test.Dir, env, "dimg", "stages", "pull", _repo, "--name", test.Name);
        Assert.True(pull.ExitCode == 0, pull.Stderr + pull.Stdout);
        var build = await DappCli.RunAsync(test.Dir, env, "dimg", "build", "--name", test.Name);
        Assert.True(build.ExitCode == 0, build.Stderr + build.Stdout);
        Assert.DoesNotContain(build.StdoutLines, l => l.EndsWith("[BUILD]"));
    }

    [Fact]
    public async Task A_stage_whose_layers_were_compressed_again_still_keeps_its_parents()
    {
        await using var test = new TestProject(Dappfile());
        await InitAsync(test);
        await OkAsync(test, "dimg", "bp", "--stages-storage", _repo, "--tag-branch", _repo);
        var chain = await ChainAsync(test);
        using var client = new RegistryClient();
        var repository = RepositoryName.Parse(_repo);
        // The dimg's last stage, as a client that compresses layers its own way would have uploaded it: the same layers
        // (diff IDs), other blobs than its parents'.
        var dimg = (await DappCli.RunAsync(test, "dimg", "stage", "image")).Stdout.Trim();
        var last = RegistryStagesStorage.Tag(dimg[(dimg.LastIndexOf(':') + 1)..]);
        var manifest = (await client.GetManifestExactAsync(ImageReference.WithTag(repository, last), default)).AsManifest();
        var layers = new List<Dapp.Registry.Model.Descriptor>();
        foreach (var layer in manifest.Layers)
        {
            using var compressed = new MemoryStream();
            await client.DownloadBlobAsync(repository, layer, compressed, null, default);
            compressed.Position = 0;
            using var recompressed = new MemoryStream();
            await using (var gunzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionMode.Decompress))
            await using (var gzip = new System.IO.Compression.GZipStream(recompressed, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
                await gunzip.CopyToAsync(gzip);
            var bytes = recompressed.ToArray();
            var blob = layer with { Digest = Dapp.Registry.Model.Digest.Of(bytes), Size = bytes.Length };
            Assert.NotEqual(layer.Digest, blob.Digest);
            await client.UploadBlobAsync(repository, blob, (offset, _) => Task.FromResult<Stream>(new MemoryStream(bytes, (int)offset, bytes.Length - (int)offset)), null, null, default);
            layers.Add(blob);
        }
        await client.PutManifestAsync(repository, last, Dapp.Registry.Model.RawManifest.From(manifest with { Layers = layers }), default);

        await OkAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", "0s", _repo);
        Assert.Equal(chain, (await StageTags.ListAsync(_repo)).Order());
    }

    [Fact]
    public async Task A_tag_whose_manifest_a_kept_tag_shares_goes_alone()
    {
        await using var test = new TestProject(Dappfile());
        var git = await InitAsync(test);
        await OkAsync(test, "dimg", "bp", "--stages-storage", _repo, "--tag-branch", _repo);
        await git.GitAsync("checkout", "-q", "-b", "feature");
        await OkAsync(test, "dimg", "bp", "--stages-storage", _repo, "--tag-branch", _repo);
        using var client = new RegistryClient();
        var main = ImageReference.Parse($"{_repo}/app:main");
        var digest = (await client.HeadManifestAsync(main, default))!.Digest;
        // Dimg images made in the registry are deterministic: both branches' tags name one manifest.
        Assert.Equal(digest, (await client.HeadManifestAsync(ImageReference.Parse($"{_repo}/app:feature"), default))!.Digest);
        await git.GitAsync("checkout", "-q", "main");
        await git.GitAsync("branch", "-q", "-D", "feature");

        await OkAsync(test, "dimg", "cleanup", "repo", _repo);
        Assert.Equal(["main"], await DimgTagsAsync());
        Assert.Equal(digest, (await client.HeadManifestAsync(main, default))!.Digest);
        var manifest = (await client.GetManifestAsync(main, null, default)).AsManifest();
        foreach (var blob in manifest.Layers.Prepend(manifest.Config))
            Assert.Equal(blob.Size, await client.HeadBlobAsync(main.Repository, blob.Digest, default));
    }

    [Fact]
    public async Task Cleanups_killed_while_deleting_tags_that_share_a_manifest_leave_no_stand_in_after_a_rerun()
    {
        await using var test = new TestProject(Dappfile());
        await InitAsync(test);
        await OkAsync(test, "dimg", "bp", "--stages-storage", _repo, "--tag-branch", _repo);
        using var client = new RegistryClient();
        var main = ImageReference.Parse($"{_repo}/app:main");
        var image = await client.GetManifestExactAsync(main, default);
        // 40 tags of branches that are gone, all naming main's manifest: each is deleted alone, through a stand-in.
        var gone = Enumerable.Range(0, 40).Select(i => $"gone-{i}").ToList();
        async Task RetagMissingAsync()
        {
            foreach (var tag in gone)
                if (await client.HeadManifestAsync(ImageReference.Parse($"{_repo}/app:{tag}"), default) is null)
                    await client.PutManifestAsync(main.Repository, tag, image, default);
        }
        async Task<int> StandInsAsync()
        {
            var count = 0;
            foreach (var tag in await DimgTagsAsync())
            {
                try
                {
                    if (EmptyManifests.IsStandIn(await client.GetManifestExactAsync(ImageReference.Parse($"{_repo}/app:{tag}"), default))) count++;
                }
                catch (RegistryException e) when (e.IsNotFound)
                {
                    // A DELETE the killed process had sent reached the registry after the listing.
                }
            }
            return count;
        }

        await using var proxy = new Registry.FaultProxy(5000);
        var repo = _repo.Replace("127.0.0.1:5000", proxy.Host);
        var random = new Random(2112);
        var standInsSeen = 0;
        for (int round = 0; round < 10; round++)
        {
            await RetagMissingAsync();
            // Every other round (the last one too) holds every DELETE and is killed once the first one is sent, so that
            // stand-ins are surely written and not deleted; the others are killed at a random moment.
            var holdDeletes = round % 2 == 1;
            var deleteSent = new TaskCompletionSource();
            proxy.Rule = r =>
            {
                if (!holdDeletes || r.Method != "DELETE") return null;
                deleteSent.TrySetResult();
                return new Registry.StallFault(null);
            };
            var cleanup = DappCli.Start(test.Dir, new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir },
                "dimg", "cleanup", "repo", repo, "--name", test.Name);
            if (holdDeletes) await deleteSent.Task.WaitAsync(TimeSpan.FromSeconds(60));
            else await Task.Delay(random.Next(200, 1500));
            try
            {
                cleanup.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It had finished.
            }
            await DappCli.FinishAsync(cleanup);
            standInsSeen += await StandInsAsync();
        }
        Assert.True(standInsSeen > 0, "no kill left a stand-in: the rerun had nothing to finish");

        proxy.Rule = _ => null;
        // What the killed processes had sent on lands first (as it would in life, the rerun comes after it).
        var settled = System.Diagnostics.Stopwatch.StartNew();
        while (proxy.Forwarding > 0 && settled.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(50);
        var rerun = await OkAsync(test, "dimg", "cleanup", "repo", _repo);
        Assert.Contains("a stand-in left by an interrupted cleanup", rerun.Stdout);
        var left = await DimgTagsAsync();
        if (left.Count != 1)
        {
            var what = new List<string>();
            foreach (var tag in left)
            {
                var head = await client.HeadManifestAsync(ImageReference.Parse($"{_repo}/app:{tag}"), default);
                what.Add($"{tag} -> {head?.Digest} {head?.MediaType}");
            }
            Assert.Fail($"left after the rerun: {string.Join("; ", what)} (main {image.Digest}); rerun said:\n{rerun.Stdout}");
        }
        Assert.Equal(image.Digest, (await client.HeadManifestAsync(main, default))!.Digest);
        // No command takes a stand-in for a dimg tag: the next run finds nothing to do.
        var again = await OkAsync(test, "dimg", "cleanup", "repo", _repo);
        Assert.DoesNotContain("stand-in", again.Stdout);
    }

    [Fact]
    public async Task A_registry_with_deletion_disabled_gives_an_error_naming_the_setting()
    {
        await using var registry = await Registry.RegistryProcess.StartAsync(null, deleteEnabled: false);
        var repo = $"{registry.Host}/no-delete";
        await using var test = new TestProject(Dappfile());
        await InitAsync(test);
        // Stages and no dimg tag: every stage is one no tag needs.
        await OkAsync(test, "dimg", "build", "--stages-storage", repo);
        var result = await DappCli.RunAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", "0s", repo);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("storage.delete.enabled", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Improper_git_commit_removes_the_stages_of_a_rewritten_history_in_the_repo_and_on_the_host()
    {
        await using var test = new TestProject(Dappfile());
        var git = await InitAsync(test);
        await OkAsync(test, "dimg", "bp", "--with-stages", _repo);
        var before = await ChainAsync(test);
        string fromStage;
        using (var project = await test.LoadAsync())
            fromStage = RegistryStagesStorage.Tag((await project.SelectConveyorsAsync([], default))[0].Stages[0].Signature);

        // The history is rewritten (a force-push): the commit the stages recorded is gone from the repository.
        await git.GitAsync("checkout", "-q", "--orphan", "rewritten");
        await git.CommitAsync("rewritten");
        await git.GitAsync("branch", "-q", "-D", "main");
        await git.GitAsync("branch", "-q", "-m", "main");
        await git.GitAsync("reflog", "expire", "--expire=now", "--all");
        await git.GitAsync("gc", "-q", "--prune=now");

        var repo = await OkAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-git-commit", "--keep-younger-than", "0s", _repo);
        Assert.Contains(repo.StdoutLines, l => l.Contains("which no longer exists there"));
        // Every stage after from records the commit; from records none.
        Assert.Equal([fromStage], await StageTags.ListAsync(_repo));
        Assert.Contains(fromStage, before);

        // A stage a container uses stays on the host (named), whatever the policies say.
        var used = before.First(t => t != fromStage);
        var container = (await DockerCli.RunAsync("create", $"dimgstage-{test.Name}:{used[RegistryStagesStorage.TagPrefix.Length..]}", "true")).Stdout.Trim();
        try
        {
            var local = await OkAsync(test, "dimg", "stages", "cleanup", "local", "--improper-git-commit", "--keep-younger-than", "0s");
            Assert.Contains(local.StdoutLines, l => l.Contains(used[RegistryStagesStorage.TagPrefix.Length..]) && l.EndsWith("but a container uses it"));
            using var project = await test.LoadAsync();
            Assert.Equal(new[] { fromStage, used }.Order(), (await project.Stages.ListSignaturesAsync(default)).Select(RegistryStagesStorage.Tag).Order());
        }
        finally
        {
            await DockerCli.RunAsync("rm", "-f", container);
        }
    }

    [Fact]
    public async Task Mrproper_all_leaves_no_image_labelled_dapp_on_the_host()
    {
        await using var test = new TestProject(Dappfile());
        await InitAsync(test);
        await using var host = await FreshEngine.StartAsync();
        await host.LoadBaseImageAsync();
        var env = host.Environment(test);
        var build = await DappCli.RunAsync(test.Dir, env, "dimg", "build", "--name", test.Name);
        Assert.True(build.ExitCode == 0, build.Stderr + build.Stdout);
        var tag = await DappCli.RunAsync(test.Dir, env, "dimg", "tag", "local/app-image", "--name", test.Name);
        Assert.True(tag.ExitCode == 0, tag.Stderr + tag.Stdout);
        async Task<IReadOnlyList<string>> LabelledAsync() =>
            (await DockerCli.RunAsync("-H", host.Host, "images", "-a", "-q", "--filter", "label=dapp")).StdoutLines.ToList();
        Assert.NotEmpty(await LabelledAsync());

        // A stage of another cache version (an older dapp's), of another project: only it goes with --improper-cache-version-stages.
        var container = (await DockerCli.RunAsync("-H", host.Host, "create", EngineFixture.BaseImage, "true")).Stdout.Trim();
        var oldStage = "dimgstage-older-project:" + new string('0', 64);
        Assert.Equal(0, (await DockerCli.CommitAsync(host.Host, "--change", "LABEL dapp=older-project", "--change", "LABEL dapp-cache-version=0", container, oldStage)).ExitCode);
        await DockerCli.RunAsync("-H", host.Host, "rm", container);
        // The ansible builder's toolchain on this host (its image and its volume's container) goes with --all too.
        await using (var ansible = new TestProject("dimg: app\nfrom: dapp-examples/busybox:1.35\nansible:\n  install:\n  - raw: echo x > /x\n"))
        {
            ansible.AlsoUsed.Add((host.Host, ansible.Name));
            var built = await DappCli.RunAsync(ansible.Dir, host.Environment(ansible), "dimg", "build", "--name", ansible.Name);
            Assert.True(built.ExitCode == 0, built.Stderr + built.Stdout);
        }
        async Task<IReadOnlyList<string>> ToolchainAsync() =>
            (await DockerCli.RunAsync("-H", host.Host, "images", "-q", "--filter", "label=dapp-deps")).StdoutLines
                .Concat((await DockerCli.RunAsync("-H", host.Host, "ps", "-a", "-q", "--filter", "label=dapp-deps")).StdoutLines).ToList();
        Assert.Equal(2, (await ToolchainAsync()).Count);
        var labelledBefore = await LabelledAsync();
        var versions = await DappCli.RunAsync(test.Dir, env, "dimg", "mrproper", "--improper-cache-version-stages");
        Assert.True(versions.ExitCode == 0, versions.Stderr + versions.Stdout);
        Assert.Equal($"remove image {oldStage}", versions.StdoutLines.First());
        Assert.Matches($@"^removed 1 image\(s\) \([0-9.]+ \w+, shared layers counted in each\); kept [1-9][0-9]* image\(s\) labelled dapp$", versions.StdoutLines.Last());
        Assert.Equal(2, versions.StdoutLines.Count());
        Assert.Equal(labelledBefore.Count - 1, (await LabelledAsync()).Count);

        Directory.CreateDirectory(Path.Combine(env["DAPP_HOME"], "builds", test.Name));
        // Outside any project: mrproper needs no dappfile.
        var elsewhere = Directory.CreateTempSubdirectory("dapp-mrproper-").FullName;
        try
        {
            var dry = await DappCli.RunAsync(elsewhere, env, "dimg", "mrproper", "--all", "--dry-run");
            Assert.True(dry.ExitCode == 0, dry.Stderr + dry.Stdout);
            Assert.Contains(dry.StdoutLines, l => l.StartsWith("would remove image ") && l.Contains("dimgstage-" + test.Name));
            Assert.NotEmpty(await LabelledAsync());

            var all = await DappCli.RunAsync(elsewhere, env, "dimg", "mrproper", "--all");
            Assert.True(all.ExitCode == 0, all.Stderr + all.Stdout);
            Assert.Empty(await LabelledAsync());
            Assert.Empty(await ToolchainAsync());
            Assert.Contains(await host.ImagesAsync(), i => i.StartsWith(EngineFixture.BaseImage));
            Assert.False(Directory.Exists(Path.Combine(env["DAPP_HOME"], "builds")));
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }
}
