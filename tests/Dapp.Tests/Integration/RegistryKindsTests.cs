using System.Net;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Registry.Remote.Handlers;
using Dapp.Storage;
using Dapp.Tests.Integration.Registry;

namespace Dapp.Tests.Integration;

/// <summary>
/// Registries as they are, not only the reference one: a proxy in front of it answers as Harbor and ECR do when a
/// tag is immutable, and as GHCR, Docker Hub and Quay do to a DELETE (docs/registries.md).
/// </summary>
[Collection(TransferCollection.Name)]
public class RegistryKindsTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static string Dappfile(string marker) => $"""
        dimg: app
        from: dapp-examples/busybox:1.35
        shell:
          install: echo {marker} > /marker && head -c 20000 /dev/urandom > /a
          setup: head -c 20000 /dev/urandom > /b
        """;

    private static async Task<CliResult> OkAsync(TestProject test, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var result = await DappCli.RunAsync(test.Dir, env, [.. args, "--name", test.Name]);
        Assert.True(result.ExitCode == 0, $"dapp {string.Join(' ', args)}: {result.Stderr}{result.Stdout}");
        return result;
    }

    /// <summary>Harbor's answer to a write of a tag that exists (an immutability rule): 412 with code DENIED.</summary>
    private static Func<ProxyRequest, Fault?> ImmutableTags(HttpClient upstream, Action? refused = null) => r =>
    {
        var at = r.Path.IndexOf("/manifests/", StringComparison.Ordinal);
        if (r.Method != "PUT" || at < 0) return null;
        var (name, reference) = (r.Path[4..at], r.Path[(at + "/manifests/".Length)..].Split('?')[0]);
        if (reference.StartsWith("sha256:", StringComparison.Ordinal)) return null;
        using var head = new HttpRequestMessage(HttpMethod.Head, $"http://127.0.0.1:5000/v2/{name}/manifests/{reference}");
        foreach (var type in new[] { "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json" })
            head.Headers.Accept.ParseAdd(type);
        using var found = upstream.Send(head);
        if (found.StatusCode != HttpStatusCode.OK) return null;
        refused?.Invoke();
        return new StatusFault(412, JsonBody: $$"""{"errors":[{"code":"DENIED","message":"Failed to process request due to '{{name}}:{{reference}}' configured as immutable"}]}""");
    };

    [Fact]
    public async Task On_a_registry_with_immutable_tags_pushes_and_distributed_builds_work_and_a_taken_dimg_tag_is_a_clear_error()
    {
        using var upstream = new HttpClient();
        await using var proxy = new FaultProxy(5000);
        proxy.Rule = ImmutableTags(upstream);
        var path = $"immutable/{Guid.NewGuid():N}";
        var repo = $"{proxy.Host}/{path}";
        await using var test = new TestProject(Dappfile(Guid.NewGuid().ToString("N")));
        var hosts = await Task.WhenAll(FreshEngine.StartAsync(), FreshEngine.StartAsync());
        try
        {
            await Task.WhenAll(hosts.Select(h => h.LoadBaseImageAsync()));
            // stages push, twice.
            await OkAsync(test, null, "dimg", "build");
            await OkAsync(test, null, "dimg", "stages", "push", repo);
            var again = await OkAsync(test, null, "dimg", "stages", "push", repo);
            Assert.DoesNotContain(again.StdoutLines, l => l.Contains("[PUSH]"));

            // Distributed builds from fresh hosts, one after another: the second builds nothing.
            await OkAsync(test, hosts[0].Environment(test), "dimg", "bp", "--stages-storage", repo, repo, "--tag-plain", "one");
            var second = await OkAsync(test, hosts[1].Environment(test), "dimg", "bp", "--stages-storage", repo, repo, "--tag-plain", "one");
            Assert.DoesNotContain(second.StdoutLines, l => l.Contains("[BUILD]"));

            // And at once, on a changed dappfile.
            test.WriteDappfile(Dappfile(Guid.NewGuid().ToString("N")));
            var atOnce = await Task.WhenAll(hosts.Select(h =>
                DappCli.RunAsync(test.Dir, h.Environment(test), "dimg", "bp", "--stages-storage", repo, repo, "--tag-plain", "two", "--name", test.Name)));
            foreach (var r in atOnce) Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);

            // A dimg tag that names another image is refused by the registry: one clear error, exit 1.
            var taken = await DappCli.RunAsync(test.Dir, hosts[0].Environment(test), "dimg", "bp", "--stages-storage", repo, repo, "--tag-plain", "one", "--name", test.Name);
            Assert.Equal(1, taken.ExitCode);
            Assert.Contains($"{repo}/app:one: the registry refuses to write this tag, which names another image", taken.Stderr);
            Assert.Contains("immutable", taken.Stderr);
            Assert.DoesNotContain("retrying", taken.Stderr);

            using var client = new RegistryClient();
            var stageTags = await client.ListTagsAsync(RepositoryName.Parse($"127.0.0.1:5000/{path}"), 1000, default);
            Assert.All(stageTags, t => Assert.StartsWith(RegistryStagesStorage.TagPrefix, t));
            Assert.Equal(["one", "two"], (await client.ListTagsAsync(RepositoryName.Parse($"127.0.0.1:5000/{path}/app"), 1000, default)).Order());
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_registry_that_does_not_delete_fails_each_cleanup_and_flush_at_its_first_refusal_and_nothing_is_deleted()
    {
        await using var test = new TestProject(Dappfile(Guid.NewGuid().ToString("N")));
        var git = await GitRepo.InitAsync(test.Dir, branch: "main");
        git.Write(".gitignore", ".home*\n.build\n");
        await git.CommitAsync("a");
        var path = $"no-delete/{Guid.NewGuid():N}";
        var direct = $"127.0.0.1:5000/{path}";
        await OkAsync(test, null, "dimg", "bp", "--stages-storage", direct, direct, "--tag-branch");
        await git.GitAsync("checkout", "-q", "-b", "feature");
        test.WriteDappfile(Dappfile(Guid.NewGuid().ToString("N")));
        await git.CommitAsync("b");
        await OkAsync(test, null, "dimg", "bp", "--stages-storage", direct, direct, "--tag-branch");
        // A third chain with no dimg tag: stages that a cleanup would delete.
        test.WriteDappfile(Dappfile(Guid.NewGuid().ToString("N")));
        await git.CommitAsync("c");
        await OkAsync(test, null, "dimg", "build", "--stages-storage", direct);
        await git.GitAsync("checkout", "-q", "main");
        await git.GitAsync("branch", "-q", "-D", "feature");

        using var client = new RegistryClient();
        async Task<IReadOnlyList<string>> TagsAsync() =>
            [.. (await client.ListTagsAsync(RepositoryName.Parse(direct), 1000, default)).Order(),
             .. (await client.ListTagsAsync(RepositoryName.Parse($"{direct}/app"), 1000, default)).Order()];
        var before = await TagsAsync();

        await using var proxy = new FaultProxy(5000);
        var deletes = 0;
        proxy.Rule = r => r.Method == "DELETE" && Interlocked.Increment(ref deletes) > 0
            ? new StatusFault(405, JsonBody: """{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}""")
            : null;
        var repo = $"{proxy.Host}/{path}";
        string[][] commands =
        [
            ["dimg", "cleanup", "repo", repo],
            ["dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", "0s", repo],
            ["dimg", "flush", "repo", repo],
            ["dimg", "stages", "flush", "repo", repo],
        ];
        foreach (var command in commands)
        {
            var dry = await OkAsync(test, null, [.. command, "--dry-run"]);
            Assert.Contains(dry.StdoutLines, l => l.StartsWith("would delete "));
            Assert.Equal(0, deletes);

            var result = await DappCli.RunAsync(test.Dir, null, [.. command, "--name", test.Name]);
            var what = string.Join(' ', command);
            Assert.True(result.ExitCode == 1, $"{what}: exit {result.ExitCode}: {result.Stderr}{result.Stdout}");
            Assert.Contains($"{proxy.Host} refuses to delete through the registry API", result.Stderr);
            Assert.Contains("docs/cleanup.md", result.Stderr);
            Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Equal(1, Interlocked.Exchange(ref deletes, 0));
            Assert.Equal(before, await TagsAsync());
        }
    }

    /// <summary>
    /// Docker Hub counts each manifest GET as a pull (HEADs are free) and answers 429 past its quota: a no-op
    /// distributed bp of the bundled example (3 dimgs, one with git, and an artifact) fits in a quota of one manifest
    /// GET per dimg (its tag is made from its last stage's manifest and config, which also confirm the git dimg's late
    /// patch stages are empty). The summary's counts by kind are the registry's, and one GET fewer is a clear error
    /// naming the quota, not a rebuild.
    /// </summary>
    [Fact]
    public async Task A_no_op_distributed_bp_of_the_example_fits_in_a_quota_of_one_manifest_GET_per_dimg()
    {
        var work = Directory.CreateTempSubdirectory("dapp-quota-").FullName;
        var name = "quota-" + Guid.NewGuid().ToString("N")[..8];
        var path = $"quota/{name}";
        FreshEngine[] hosts = [];
        try
        {
            TestFiles.CopyDirectory(Path.Combine(TestPaths.RepoRoot, "examples"), Path.Combine(work, "examples"));
            var git = await GitRepo.InitAsync(work);
            await git.CommitAsync("example project");
            var dir = Path.Combine(work, "examples");
            hosts = await Task.WhenAll(FreshEngine.StartAsync(), FreshEngine.StartAsync(), FreshEngine.StartAsync());
            await Task.WhenAll(hosts.Select(h => h.LoadBaseImageAsync()));
            Dictionary<string, string> On(FreshEngine host) => new() { ["DOCKER_HOST"] = host.Host, ["DAPP_HOME"] = Path.Combine(work, ".home-" + host.Host.GetHashCode()) };
            var direct = $"127.0.0.1:5000/{path}";
            var first = await DappCli.RunAsync(dir, On(hosts[0]), "dimg", "bp", "--stages-storage", direct, direct, "--name", name);
            Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);

            await using var proxy = new FaultProxy(5000);
            var counts = new System.Collections.Concurrent.ConcurrentDictionary<RequestKind, int>();
            const int Needed = 3;
            var quota = Needed;
            proxy.Rule = r =>
            {
                var kind = RequestCounter.KindOf(new HttpMethod(r.Method), r.Path.Split('?')[0]);
                var seen = counts.AddOrUpdate(kind, 1, (_, n) => n + 1);
                return kind == RequestKind.ManifestGet && seen > quota
                    ? new StatusFault(429, JsonBody: """{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}""", RetryAfterSeconds: 21600)
                    : null;
            };
            var repo = $"{proxy.Host}/{path}";
            var noop = await DappCli.RunAsync(dir, On(hosts[1]), "dimg", "bp", "--stages-storage", repo, repo, "--name", name);
            Assert.True(noop.ExitCode == 0, noop.Stderr + noop.Stdout);
            Assert.DoesNotContain(noop.StdoutLines, l => l.EndsWith("[BUILD]") || l.EndsWith("[PULL]"));
            var summary = noop.StdoutLines.Concat(noop.Stderr.Split('\n')).Single(l => l.Contains("registry request(s) by dapp"));
            output.WriteLine(summary);
            Assert.Contains($"(HEAD {counts.GetValueOrDefault(RequestKind.Head)}, manifest GET {counts.GetValueOrDefault(RequestKind.ManifestGet)}, "
                + $"blob GET {counts.GetValueOrDefault(RequestKind.BlobGet)}, PUT {counts.GetValueOrDefault(RequestKind.Put)}, DELETE 0, "
                + $"other {counts.GetValueOrDefault(RequestKind.Other)})", summary);
            Assert.Equal(Needed, counts.GetValueOrDefault(RequestKind.ManifestGet));

            counts.Clear();
            quota = Needed - 1;
            var over = await DappCli.RunAsync(dir, On(hosts[2]), "dimg", "bp", "--stages-storage", repo, repo, "--name", name);
            Assert.Equal(1, over.ExitCode);
            Assert.Contains("the registry's request quota is used up", over.Stderr);
            Assert.Contains("You have reached your pull rate limit", over.Stderr);
            Assert.DoesNotContain(over.StdoutLines, l => l.EndsWith("[BUILD]"));
            Assert.Equal(quota + 1, counts.GetValueOrDefault(RequestKind.ManifestGet));
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
            Directory.Delete(work, true);
        }
    }
}
