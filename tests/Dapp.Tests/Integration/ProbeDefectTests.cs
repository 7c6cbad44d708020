using System.Net.Http.Headers;
using System.Text.Json;
using Dapp.Tests.Integration.Registry;

namespace Dapp.Tests.Integration;

/// <summary>
/// The defects the hostile probe found that need an engine: a user's container and its image survive the local
/// cleanups, spools of killed processes are swept and listed, and a stage uploaded by dapp's own client reuses the
/// layer blobs its parent already has in the repository.
/// </summary>
[Collection(EngineCollection.Name)]
public class ProbeDefectTests
{
    private static readonly string Dappfile = $"""
        dimg: app
        from: {EngineFixture.BaseImage}
        shell:
          install: head -c 300000 /dev/urandom > /data
          setup: echo one > /setup
        """;

    [Fact]
    public async Task A_users_container_and_its_image_survive_mrproper_flush_and_cleanup_unless_forced()
    {
        await using var host = await FreshEngine.StartAsync();
        await host.LoadBaseImageAsync();
        await using var test = new TestProject(Dappfile);
        var env = host.Environment(test);
        Task<CliResult> Dapp(params string[] args) => DappCli.RunAsync(test.Dir, env, [.. args, "--name", test.Name]);
        Assert.Equal(0, (await Dapp("dimg", "build")).ExitCode);
        Assert.Equal(0, (await Dapp("dimg", "tag", "localhost/probe")).ExitCode);
        var image = "localhost/probe/app:latest";
        Assert.Equal(0, (await DockerCli.RunAsync("-H", host.Host, "create", "--name", "my-production-app", image, "sleep", "1")).ExitCode);
        var stage = (await Dapp("dimg", "stage", "image", "app")).Stdout.Trim();
        Assert.Equal(0, (await DockerCli.RunAsync("-H", host.Host, "create", "--name", "my-debug-shell", stage, "sh")).ExitCode);

        foreach (var command in new[] { new[] { "dimg", "flush", "local" }, ["dimg", "stages", "flush", "local"], ["dimg", "cleanup"], ["dimg", "mrproper", "--all"] })
        {
            var result = await Dapp(command);
            Assert.True(result.ExitCode == 0, $"{string.Join(' ', command)}: {result.Stderr}");
            Assert.Equal(0, (await DockerCli.RunAsync("-H", host.Host, "container", "inspect", "my-production-app")).ExitCode);
            Assert.Equal(0, (await DockerCli.RunAsync("-H", host.Host, "container", "inspect", "my-debug-shell")).ExitCode);
            Assert.Equal(0, (await DockerCli.RunAsync("-H", host.Host, "image", "inspect", image)).ExitCode);
        }
        var flush = await Dapp("dimg", "flush", "local");
        Assert.Contains($"keep {image}: in use by container my-production-app", flush.Stdout);
        var mrproper = await Dapp("dimg", "mrproper", "--all");
        Assert.Contains($"keep image {image}: in use by container my-production-app", mrproper.Stdout);
        Assert.Contains($"keep image {stage}: in use by container my-debug-shell", mrproper.Stdout);

        // --force removes the images; the user's containers stay.
        Assert.Equal(0, (await Dapp("dimg", "mrproper", "--all", "--force")).ExitCode);
        Assert.NotEqual(0, (await DockerCli.RunAsync("-H", host.Host, "image", "inspect", image)).ExitCode);
        Assert.Equal(0, (await DockerCli.RunAsync("-H", host.Host, "container", "inspect", "my-production-app")).ExitCode);
    }

    [Fact]
    public async Task Spools_of_ended_processes_are_listed_by_cleanup_and_swept()
    {
        await using var test = new TestProject(Dappfile);
        // A TMPDIR of the test's own: every dapp process of the user sweeps the spools of ended ones, and other tests run
        // dapp at the same time.
        var tmp = Directory.CreateTempSubdirectory("dapp-tmp-").FullName;
        var env = new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir, ["TMPDIR"] = tmp };
        var dir = Path.Combine(tmp, $"dapp-spools-{Environment.UserName}");
        Directory.CreateDirectory(dir);
        // A process that has ended: its pid, with a start time no running process has.
        using var ended = System.Diagnostics.Process.Start("true")!;
        await ended.WaitForExitAsync();
        var spool = Path.Combine(dir, $"layer.{ended.Id}.1.{Guid.NewGuid():N}");
        File.WriteAllText(spool, "left by a killed pull");
        var mine = Path.Combine(dir, $"layer.{Environment.ProcessId}.{ProcessOwner.Current.StartTicks}.{Guid.NewGuid():N}");
        File.WriteAllText(mine, "a live process's spool");
        try
        {
            var dry = await DappCli.RunAsync(test.Dir, env, "dimg", "cleanup", "--dry-run", "--name", test.Name);
            Assert.True(dry.ExitCode == 0, dry.Stderr);
            Assert.Contains($"would remove leftover spool {spool}: left by dapp process {ended.Id}, which has ended", dry.Stdout);
            Assert.True(File.Exists(spool));
            var build = await DappCli.RunAsync(test.Dir, env, "dimg", "build", "--name", test.Name);
            Assert.True(build.ExitCode == 0, build.Stderr);
            Assert.False(File.Exists(spool), "the build swept the spool of the ended process");
            Assert.True(File.Exists(mine), "a live process's spool is left alone");
            // A spool is the user's alone: 0600 in a 0700 dir (made private again if someone opened it up).
            Directory.CreateDirectory(TempSpool.Directory);
            File.SetUnixFileMode(TempSpool.Directory, (UnixFileMode)0b111_101_101);
            await using (var made = TempSpool.Create("probe"))
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(made.Name));
                Assert.StartsWith($"{TempSpool.Directory}/probe.{Environment.ProcessId}.", made.Name);
            }
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(TempSpool.Directory));
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }

    /// <summary>The project built, and the name a push killed between making its dimg image and removing it leaves: the last stage and that name.</summary>
    private static async Task<(string Stage, string Killed)> KilledPushNameAsync(TestProject test)
    {
        await test.BuildAsync();
        var stage = (await DappCli.RunAsync(test, "dimg", "stage", "image", "app")).Stdout.Trim();
        using var ended = System.Diagnostics.Process.Start("true")!;
        await ended.WaitForExitAsync();
        var killed = $"dapp-dimg-{test.Name}:{ended.Id}.1.{Guid.NewGuid():N}";
        Assert.Equal(0, (await DockerCli.RunAsync("tag", stage, killed)).ExitCode);
        return (stage, killed);
    }

    [Fact]
    public async Task The_dimg_image_a_killed_push_made_is_listed_by_cleanup_and_removed()
    {
        await using var test = new TestProject(Dappfile);
        var (stage, killed) = await KilledPushNameAsync(test);
        // And what a running push has.
        var live = $"dapp-dimg-{test.Name}:{Environment.ProcessId}.{ProcessOwner.Current.StartTicks}.{Guid.NewGuid():N}";
        Assert.Equal(0, (await DockerCli.RunAsync("tag", stage, live)).ExitCode);
        try
        {
            var dry = await DappCli.RunAsync(test, "dimg", "cleanup", "--dry-run");
            Assert.True(dry.ExitCode == 0, dry.Stderr);
            Assert.Contains($"would remove leftover dimg push name {killed}", dry.Stdout);
            Assert.Contains($"keep dimg push name {live}: made by dapp process {Environment.ProcessId}", dry.Stdout);
            Assert.Equal(0, (await DockerCli.RunAsync("image", "inspect", killed)).ExitCode);
            var cleanup = await DappCli.RunAsync(test, "dimg", "cleanup");
            Assert.True(cleanup.ExitCode == 0, cleanup.Stderr);
            Assert.NotEqual(0, (await DockerCli.RunAsync("image", "inspect", killed)).ExitCode);
            Assert.Equal(0, (await DockerCli.RunAsync("image", "inspect", live)).ExitCode);
        }
        finally
        {
            await DockerCli.RunAsync("rmi", killed, live);
        }
    }

    [Fact]
    public async Task A_build_leaves_a_killed_pushs_dimg_image_to_the_next_push_which_removes_it()
    {
        await using var test = new TestProject(Dappfile);
        var (_, killed) = await KilledPushNameAsync(test);
        try
        {
            // A build lists no image names (the engine walks every image it has for that): pushes make them, pushes remove them.
            var build = await DappCli.RunAsync(test, "dimg", "build");
            Assert.True(build.ExitCode == 0, build.Stderr);
            Assert.Equal(0, (await DockerCli.RunAsync("image", "inspect", killed)).ExitCode);
            var push = await DappCli.RunAsync(test, "dimg", "push", $"127.0.0.1:5000/leftovers/{Guid.NewGuid():N}");
            Assert.True(push.ExitCode == 0, push.Stderr);
            Assert.Contains($"remove leftover dimg push name {killed}", push.Stdout);
            Assert.NotEqual(0, (await DockerCli.RunAsync("image", "inspect", killed)).ExitCode);
        }
        finally
        {
            await DockerCli.RunAsync("rmi", killed);
        }
    }

    [Fact]
    public async Task A_stage_uploaded_by_dapps_client_reuses_its_parents_layer_blobs()
    {
        await using var test = new TestProject(Dappfile);
        await test.BuildAsync();
        await using var proxy = new FaultProxy(5000);
        var repository = $"fallback/{Guid.NewGuid():N}";
        var repo = $"{proxy.Host}/{repository}";
        var push = await DappCli.RunAsync(test, "dimg", "stages", "push", repo);
        Assert.True(push.ExitCode == 0, push.Stderr);

        // A new setup stage, uploaded by dapp's own client (as every stage is) in a later command.
        test.WriteDappfile(Dappfile.Replace("echo one", "echo two"));
        var build = await test.BuildAsync();
        var uploaded = 0;
        proxy.Answered = r => { if (r.Method is "PUT" or "PATCH" && r.Path.Contains("/blobs/uploads/")) Interlocked.Increment(ref uploaded); };
        var second = await DappCli.RunAsync(test, "dimg", "stages", "push", repo);
        Assert.True(second.ExitCode == 0, second.Stderr);
        // Its config and its one new layer: none of the parent's layers again.
        Assert.Equal(2, uploaded);

        var signatures = build.Stages.Where(s => s.Image == "app").ToDictionary(s => s.Stage, s => s.Signature);
        var parent = await LayersAsync(repository, signatures["install"]);
        var child = await LayersAsync(repository, signatures["setup"]);
        Assert.Equal(parent.Count + 1, child.Count);
        // The layers they share are the same blobs, not compressed a second time.
        Assert.Equal(parent, child.Take(parent.Count));
    }

    private static async Task<IReadOnlyList<string>> LayersAsync(string repository, string signature)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:5000/v2/{repository}/manifests/dimgstage-{signature}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.docker.distribution.manifest.v2+json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"dimgstage-{signature}: {response.StatusCode}");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("digest").GetString()!).ToList();
    }
}

/// <summary>Tags dapp reserves in a repository are never written as dimg tags, and a stage tag holding another image is not used.</summary>
[Collection(TransferCollection.Name)]
public class ReservedTagsTests
{
    private static readonly string Dappfile = $"""
        dimg:
        from: {EngineFixture.BaseImage}
        shell:
          install: echo {Guid.NewGuid():N} > /marker
          setup: echo set > /setup
        """;

    [Fact]
    public async Task A_dimg_tag_that_would_replace_a_stage_or_claim_is_refused()
    {
        await using var test = new TestProject(Dappfile);
        await test.BuildAsync();
        var repo = $"127.0.0.1:5000/reserved/{Guid.NewGuid():N}";
        foreach (var tag in new[] { "dimgstage-" + new string('a', 64), "dimgclaim-x", "dapp-upload-0" })
        {
            var push = await DappCli.RunAsync(test, "dimg", "push", "--tag-plain", tag, repo);
            Assert.True(push.ExitCode == 1, $"{tag}: {push.Stderr}");
            Assert.Contains($"the tag {tag} begins like the tags dapp keeps for itself", push.Stderr);
        }
        Assert.Empty(await StageTags.ListAsync(repo));
    }

    [Fact]
    public async Task A_stage_tag_that_names_another_image_is_not_used_but_built_again_and_replaced()
    {
        await using var test = new TestProject(Dappfile);
        var repo = $"127.0.0.1:5000/impostor/{Guid.NewGuid():N}";
        var first = await DappCli.RunAsync(test, "dimg", "bp", "--stages-storage", repo, repo);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var signatures = first.StdoutLines.Where(l => l.EndsWith("[BUILD]")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]).ToList();
        var last = signatures[^1];

        // Another tool writes the base image over the last stage's tag.
        using var client = new Dapp.Registry.Remote.RegistryClient();
        var repository = Dapp.Registry.Names.RepositoryName.Parse(repo);
        var from = await client.GetManifestExactAsync(Dapp.Registry.Names.ImageReference.Parse($"{repo}:dimgstage-{signatures[0]}"), default);
        await client.PutManifestAsync(repository, $"dimgstage-{last}", from, default);

        await using var host = await FreshEngine.StartAsync();
        await host.LoadBaseImageAsync();
        var second = await DappCli.RunAsync(test.Dir, host.Environment(test), "dimg", "bp", "--stages-storage", repo, "--name", test.Name, repo);
        Assert.True(second.ExitCode == 0, second.Stderr + second.Stdout);
        Assert.Contains($"{repo}:dimgstage-{last} is not the stage its tag names", second.Stderr);
        Assert.Contains(second.StdoutLines, l => l.Contains(last) && l.EndsWith("[BUILD]"));
        // Published over the impostor: the tag names the stage again.
        var labels = await Dapp.Registry.Remote.RegistryImage.ReadLabelsAsync(client, Dapp.Registry.Names.ImageReference.Parse($"{repo}:dimgstage-{last}"), default);
        Assert.Equal(last, labels![Dapp.Engine.DappLabels.StageSignature]);
    }
}
