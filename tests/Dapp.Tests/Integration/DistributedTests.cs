using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Stages;
using Dapp.Storage;
using Dapp.Tests.Integration.Registry;
using Dapp.Engine;

namespace Dapp.Tests.Integration;

/// <summary>
/// Distributed mode (<c>--stages-storage REPO</c>, docs/distributed.md) through the CLI: host A is the default engine,
/// the other hosts are fresh engines started for the test, without even the base image.
/// </summary>
[Collection(TransferCollection.Name)]
[Trait("podman-ci", "yes")]
public class DistributedTests
{
    private readonly string _marker = Guid.NewGuid().ToString("N")[..12];
    private readonly string _repo = $"127.0.0.1:5000/distributed/{Guid.NewGuid():N}";

    private string Dappfile(string setup = "setup-1") => SharedDappfiles.ApiWebAndBuilder(_marker, setup);

    private static Task<CliResult> OnAsync(FreshEngine host, TestProject test, params string[] args) =>
        DappCli.RunAsync(test.Dir, host.Environment(test), [.. args, "--name", test.Name]);

    private static List<string> Lines(CliResult result, string state) => result.StdoutLines.Where(l => l.EndsWith(state)).ToList();

    /// <summary>The words of a stage line before its state (which may have a space: [IN REPO]).</summary>
    private static string[] Words(string line) => line[..line.LastIndexOf(" [", StringComparison.Ordinal)].Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static string StageOf(string line) => Words(line)[^2];

    private static string SignatureOf(string line) => Words(line)[^1];

    private static async Task<Dictionary<string, string?>> DigestsAsync(params string[] references)
    {
        using var client = new RegistryClient();
        var digests = new Dictionary<string, string?>();
        foreach (var reference in references) digests[reference] = (await client.HeadManifestAsync(ImageReference.Parse(reference), default))?.Digest;
        return digests;
    }

    private async Task<IReadOnlyList<Conveyor>> ChainsAsync(TestProject test)
    {
        using var project = await test.LoadAsync();
        return Conveyor.WithDependencies(await project.SelectConveyorsAsync([], default));
    }

    [Fact]
    public async Task A_builds_and_publishes_everything_then_a_fresh_host_builds_nothing_pulls_nothing_and_changes_no_tag()
    {
        await using var test = new TestProject(Dappfile());
        var a = await DappCli.RunAsync(test, "dimg", "bp", "--stages-storage", _repo, _repo);
        Assert.True(a.ExitCode == 0, a.Stderr + a.Stdout);
        var chains = await ChainsAsync(test);
        var signatures = chains.SelectMany(c => c.Stages).Select(s => s.Signature).ToHashSet();
        Assert.Equal(signatures, Lines(a, "[BUILD]").Select(SignatureOf).ToHashSet());
        // Every stage tag is complete: its config and every layer are in the registry.
        Assert.Equal(signatures.Count, await StageTags.AssertCompleteAsync(_repo, "after host A"));
        using (var client = new RegistryClient())
        {
            var labels = await RegistryImage.ReadLabelsAsync(client, ImageReference.Parse($"{_repo}/api:latest"), default);
            Assert.NotNull(labels);
            Assert.Equal("true", labels[DappLabels.Dimg]);
            Assert.Equal("custom", labels[DappLabels.TagScheme]);
            Assert.Equal(chains.First(c => c.Image.Name == "api").LastSignature, labels[DappLabels.StageSignature]);
            // The dimg image has exactly the stage's layers.
            var stage = (await client.GetManifestAsync(ImageReference.WithTag(RepositoryName.Parse(_repo), RegistryStagesStorage.Tag(labels[DappLabels.StageSignature])), null, default)).AsManifest();
            var dimg = (await client.GetManifestAsync(ImageReference.Parse($"{_repo}/api:latest"), null, default)).AsManifest();
            Assert.Equal(stage.Layers.Select(l => l.Digest), dimg.Layers.Select(l => l.Digest));
        }
        var tags = await DigestsAsync($"{_repo}/api:latest", $"{_repo}/web:latest");
        Assert.Contains("stages storage " + _repo, a.Stdout);

        await using var b = await FreshEngine.StartAsync();
        var noop = await OnAsync(b, test, "dimg", "bp", "--stages-storage", _repo, _repo);
        Assert.True(noop.ExitCode == 0, noop.Stderr + noop.Stdout);
        Assert.Empty(Lines(noop, "[BUILD]"));
        Assert.Empty(Lines(noop, "[PULL]"));
        // The chains are walked at once (--jobs): their lines in any order.
        Assert.Equal(chains.Where(c => !c.Image.IsArtifact).Select(c => c.Stages[^1].Signature).Order(),
            Lines(noop, "[IN REPO]").Where(l => !l.StartsWith("artifact")).Select(SignatureOf).Order());
        Assert.Equal(2, Lines(noop, "[EXIST]").Count);
        Assert.Matches(@"pulled 0 stage\(s\), 0 B; pushed 0 stage\(s\), 0 B; \d+ registry request", noop.Stdout);
        Assert.Empty(await b.ImagesAsync());
        Assert.Equal(tags, await DigestsAsync([.. tags.Keys]));

        // The dimg image made inside the registry runs.
        Assert.Equal(0, (await DockerCli.RunAsync("-H", b.Host, "pull", $"{_repo}/api:latest")).ExitCode);
        Assert.Equal("setup-1", (await DockerCli.RunAsync("-H", b.Host, "run", "--rm", "--network=none", $"{_repo}/api:latest")).Stdout.Trim());
        Assert.Equal($"web-{_marker}", (await DockerCli.RunAsync("-H", b.Host, "run", "--rm", "--network=none", "--entrypoint", "cat", $"{_repo}/web:latest", "/web")).Stdout.Trim());
    }

    [Fact]
    public async Task After_a_setup_change_a_fresh_host_pulls_one_stage_builds_two_and_publishes_both()
    {
        await using var test = new TestProject(Dappfile());
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "bp", "--stages-storage", _repo, _repo)).ExitCode);
        var web = await DigestsAsync($"{_repo}/web:latest");
        var apiBefore = await DigestsAsync($"{_repo}/api:latest");

        test.WriteDappfile(Dappfile(setup: "setup-2"));
        var api = (await ChainsAsync(test)).First(c => c.Image.Name == "api");
        await using var b = await FreshEngine.StartAsync();
        var result = await OnAsync(b, test, "dimg", "bp", "--stages-storage", _repo, _repo);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Equal([api.SignatureOf(StageName.AfterInstallArtifact)], Lines(result, "[PULL]").Select(SignatureOf));
        Assert.Equal(["setup", "docker_instructions"], Lines(result, "[BUILD]").Select(StageOf));
        Assert.Matches(@"pulled 1 stage\(s\), .*; pushed 2 stage\(s\)", result.Stdout);
        // Both new stages are in the registry, whole, when the command ends; the other dimg's tag did not move.
        var stages = await DigestsAsync($"{_repo}:dimgstage-{api.SignatureOf(StageName.Setup)}", $"{_repo}:dimgstage-{api.LastSignature}");
        Assert.All(stages.Values, Assert.NotNull);
        await StageTags.AssertCompleteAsync(_repo, "after the setup change");
        Assert.Equal(web, await DigestsAsync($"{_repo}/web:latest"));
        Assert.NotEqual(apiBefore, await DigestsAsync($"{_repo}/api:latest"));
        // Only the stage built on and the two new ones are in B's engine.
        Assert.Equal(3, (await b.ImagesAsync()).Count);
        Assert.Equal(0, (await DockerCli.RunAsync("-H", b.Host, "pull", $"{_repo}/api:latest")).ExitCode);
        Assert.Equal("setup-2", (await DockerCli.RunAsync("-H", b.Host, "run", "--rm", "--network=none", $"{_repo}/api:latest")).Stdout.Trim());
    }

    [Fact]
    public async Task Rate_limits_and_unavailable_answers_on_lookups_are_retried_never_taken_as_missing()
    {
        await using var test = new TestProject(Dappfile());
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "bp", "--stages-storage", _repo, _repo)).ExitCode);

        await using var proxy = new FaultProxy(5000);
        var faulted = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        // The first two HEADs of each manifest answer 429, then 503; then the registry answers.
        proxy.Rule = r => r.Method == "HEAD" && r.Path.Contains("/manifests/") && faulted.AddOrUpdate(r.Path, 1, (_, n) => n + 1) is var n && n <= 2
            ? new StatusFault(n == 1 ? 429 : 503, n == 1 ? 0 : null)
            : null;
        var repo = _repo.Replace("127.0.0.1:5000", proxy.Host);
        await using var b = await FreshEngine.StartAsync();
        var result = await OnAsync(b, test, "dimg", "bp", "--stages-storage", repo, repo);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.NotEmpty(faulted);
        Assert.Empty(Lines(result, "[BUILD]"));
        Assert.Empty(Lines(result, "[PULL]"));
        Assert.Equal(2, Lines(result, "[EXIST]").Count);
        Assert.Empty(await b.ImagesAsync());
    }

    [Fact]
    public async Task A_dimg_repo_elsewhere_gets_the_stage_layers_by_mount_on_the_same_registry_and_streamed_from_another()
    {
        await using var test = new TestProject(Dappfile());
        await using var proxy = new FaultProxy(5000);
        // Through the proxy, the stages repo and one dimg repo are on one registry (mounts), and 127.0.0.1:5000 is another.
        var stages = _repo.Replace("127.0.0.1:5000", proxy.Host) + "/stages";
        var mounted = _repo.Replace("127.0.0.1:5000", proxy.Host) + "/mounted";
        var bp = await DappCli.RunAsync(test, "dimg", "bp", "--stages-storage", stages, "api", mounted);
        Assert.True(bp.ExitCode == 0, bp.Stderr + bp.Stdout);
        var mounts = proxy.Seen.Where(r => r.Method == "POST" && r.Path.Contains("/mounted/api/blobs/uploads/?mount=")).ToList();
        Assert.NotEmpty(mounts);
        Assert.DoesNotContain(proxy.Seen, r => r.Method == "PATCH" && r.Path.Contains("/mounted/"));

        var streamed = _repo + "/streamed";
        var push = await DappCli.RunAsync(test, "dimg", "push", "--stages-storage", stages, "api", streamed);
        Assert.True(push.ExitCode == 0, push.Stderr + push.Stdout);
        Assert.Single(Lines(push, "[PUSH]"));

        using var client = new RegistryClient();
        var stage = (await client.GetManifestAsync(ImageReference.WithTag(RepositoryName.Parse(_repo + "/stages"),
            RegistryStagesStorage.Tag((await ChainsAsync(test)).First(c => c.Image.Name == "api").LastSignature)), null, default)).AsManifest();
        // Another registry: each layer was read from the stages repo to be uploaded there.
        foreach (var layer in stage.Layers)
            Assert.Contains(proxy.Seen, r => r.Method == "GET" && r.Path.EndsWith("/stages/blobs/" + layer.Digest));
        foreach (var target in new[] { $"{_repo}/mounted/api:latest", $"{streamed}/api:latest" })
        {
            var dimg = (await client.GetManifestAsync(ImageReference.Parse(target), null, default)).AsManifest();
            Assert.Equal(stage.Layers, dimg.Layers);
            Assert.Equal(0, (await DockerCli.RunAsync("pull", target)).ExitCode);
            Assert.Equal("setup-1", (await DockerCli.RunAsync("run", "--rm", "--network=none", target)).Stdout.Trim());
            await DockerCli.RunAsync("rmi", target);
        }
        // Run again: the same digests, nothing written.
        var again = await DappCli.RunAsync(test, "dimg", "push", "--stages-storage", stages, "api", streamed);
        Assert.True(again.ExitCode == 0, again.Stderr + again.Stdout);
        Assert.Single(Lines(again, "[EXIST]"));
    }

    [Fact]
    public async Task A_stage_another_host_publishes_while_this_one_uploads_it_keeps_their_tag()
    {
        await using var test = new TestProject($"""
            dimg: one
            from: dapp-examples/busybox:1.35
            shell:
              install: echo {_marker} > /marker
            """);
        var chain = (await ChainsAsync(test))[0];
        var (from, install) = (chain.Stages[0].Signature, chain.Stages[1].Signature);
        await using var proxy = new FaultProxy(5000);
        var path = _repo["127.0.0.1:5000/".Length..];
        string? theirs = null;
        using var http = new HttpClient();
        int stageTags = 0, fired = 0;
        // "Another host" publishes the install stage while this one uploads it: as the first blob upload after the
        // from stage's tag starts, the install tag gets another (valid) manifest, the from stage's.
        proxy.Rule = r =>
        {
            if (r.Method == "PUT" && r.Path.Contains("/manifests/" + RegistryStagesStorage.TagPrefix)) Interlocked.Increment(ref stageTags);
            if (r.Method != "POST" || !r.Path.Contains("/blobs/uploads/") || Volatile.Read(ref stageTags) < 1 || Interlocked.Increment(ref fired) != 1) return null;
            using var get = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:5000/v2/{path}/manifests/dimgstage-{from}");
            get.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
            get.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
            using var found = http.Send(get);
            var body = found.Content.ReadAsByteArrayAsync().Result;
            using var put = new HttpRequestMessage(HttpMethod.Put, $"http://127.0.0.1:5000/v2/{path}/manifests/dimgstage-{install}") { Content = new ByteArrayContent(body) };
            put.Content.Headers.ContentType = found.Content.Headers.ContentType;
            using var written = http.Send(put);
            theirs = written.Headers.GetValues("Docker-Content-Digest").First();
            return null;
        };
        var repo = _repo.Replace("127.0.0.1:5000", proxy.Host);
        var result = await DappCli.RunAsync(test, "dimg", "build", "--stages-storage", repo);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.NotNull(theirs);
        Assert.Equal([install], Lines(result, "[EXIST]").Select(SignatureOf));
        Assert.Equal(theirs, (await DigestsAsync($"{_repo}:dimgstage-{install}")).Values.Single());
        Assert.Matches(@"pushed 1 stage\(s\)", result.Stdout);
        // The upload left no name in the engine, and no tag in REPO but the stages'.
        Assert.DoesNotContain((await DockerCli.RunAsync("images", "--format", "{{.Repository}}:{{.Tag}}")).StdoutLines, l => l.Contains(_repo));
        using (var client = new RegistryClient())
            Assert.All(await client.ListTagsAsync(RepositoryName.Parse(_repo), 1000, default), t => Assert.StartsWith(RegistryStagesStorage.TagPrefix, t));
    }

    [Fact]
    public async Task A_commit_rebuilds_only_g_a_latest_patch_on_a_fresh_host_from_the_commit_the_registry_records()
    {
        await using var test = new TestProject("""
            dimg: app
            from: dapp-examples/busybox:1.35
            git:
            - add: /src
              to: /app
            shell:
              install: ls /app > /installed
            """);
        var git = await GitRepo.InitAsync(test.Dir);
        git.Write("src/main.txt", "one\n");
        await git.CommitAsync("one");
        var a = await DappCli.RunAsync(test, "dimg", "bp", "--stages-storage", _repo, _repo);
        Assert.True(a.ExitCode == 0, a.Stderr + a.Stdout);

        git.Write("src/main.txt", "two\n");
        var commit = (await git.CommitAsync("two")).Trim();
        await using var b = await FreshEngine.StartAsync();
        var result = await OnAsync(b, test, "dimg", "bp", "--stages-storage", _repo, _repo);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Equal(["g_a_latest_patch"], Lines(result, "[BUILD]").Select(StageOf));
        Assert.Single(Lines(result, "[PULL]"));
        Assert.Equal(0, (await DockerCli.RunAsync("-H", b.Host, "pull", $"{_repo}/app:latest")).ExitCode);
        Assert.Equal("two", (await DockerCli.RunAsync("-H", b.Host, "run", "--rm", "--network=none", "--entrypoint", "cat", $"{_repo}/app:latest", "/app/main.txt")).Stdout.Trim());
        var labels = (await DockerCli.RunAsync("-H", b.Host, "inspect", "--format", "{{json .Config.Labels}}", $"{_repo}/app:latest")).Stdout;
        Assert.Contains(commit, labels);

        // A third host: the latest patch is in the registry now, nothing to build.
        await using var c = await FreshEngine.StartAsync();
        var again = await OnAsync(c, test, "dimg", "bp", "--stages-storage", _repo, _repo);
        Assert.True(again.ExitCode == 0, again.Stderr + again.Stdout);
        Assert.Empty(Lines(again, "[BUILD]"));
        Assert.Equal(["g_a_latest_patch"], Lines(again, "[IN REPO]").Select(StageOf));
        Assert.Empty(await c.ImagesAsync());
    }
}
