using System.Diagnostics;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Stages;
using Dapp.Storage;
using Xunit.Abstractions;
using Dapp.Engine;

namespace Dapp.Tests.Integration;

/// <summary>
/// CI shell runners: several jobs of one commit at once on one engine (sharing its local stages and the host's
/// DAPP_HOME), beside jobs of other hosts, all with <c>bp --stages-storage REPO REPO</c> (docs/distributed.md,
/// "Jobs sharing one engine"). Every stage writes random data, so copies built by two jobs differ and a stage built on
/// another job's copy of its parent shows in its layers.
/// </summary>
/// <remarks>Not in the engine collection: it runs beside it (most of its time is waiting), since every job runs on
/// engines of its own (fresh dockerds) with its own project name and repository: the engine tests cannot see it, nor
/// it them.</remarks>
public class SharedEngineTests(ITestOutputHelper output)
{
    /// <summary>Rounds on real engines (real timing); the algorithm races through many more in fake time (Unit/Simulation).</summary>
    private const int Rounds = 8;

    private static string Dappfile(string marker) => $"""
        dimg: app
        from: dapp-examples/busybox:1.35
        shell:
          beforeInstall: echo {marker} > /marker && head -c 50000 /dev/urandom > /a
          install: sleep 0.3 && head -c 50000 /dev/urandom > /b
          setup: head -c 50000 /dev/urandom > /c
        docker:
          CMD: ["cat", "/marker"]
        """;

    [Fact]
    public Task Two_jobs_on_each_of_two_engines_publish_only_stages_built_on_the_registrys_parent() => RunRoundsAsync(engines: 2, jobsPerEngine: 2, seed: 22);

    [Fact]
    public Task Four_jobs_on_one_engine_all_succeed_and_publish_a_consistent_chain() => RunRoundsAsync(engines: 1, jobsPerEngine: 4, seed: 23);

    /// <summary>
    /// A host whose engine has a whole chain built without --stages-storage, beside a REPO holding another host's copy
    /// of its first stages only: the local stages REPO lacks were built on another copy of their parent, so neither
    /// <c>bp --stages-storage</c> nor <c>stages push</c> may publish them; bp builds them again on REPO's copy.
    /// </summary>
    [Fact]
    public async Task Local_stages_built_on_another_copy_of_their_parent_are_rebuilt_on_the_registrys_not_published()
    {
        var repo = $"127.0.0.1:5000/shared-engine/{Guid.NewGuid():N}";
        await using var test = new TestProject(Dappfile(Guid.NewGuid().ToString("N")));
        var hosts = await Task.WhenAll(FreshEngine.StartAsync(), FreshEngine.StartAsync());
        try
        {
            await Task.WhenAll(hosts.Select(h => h.LoadBaseImageAsync()));
            async Task<CliResult> RunAsync(FreshEngine host, params string[] args)
            {
                var result = await DappCli.RunAsync(test.Dir, host.Environment(test), [.. args, "--name", test.Name]);
                Assert.True(result.ExitCode == 0, $"dapp {string.Join(' ', args)}:\n{result.Stderr}{result.Stdout}");
                return result;
            }
            await RunAsync(hosts[0], "dimg", "build");
            await RunAsync(hosts[1], "dimg", "build");
            await RunAsync(hosts[1], "dimg", "stages", "push", repo);
            // REPO keeps the other host's from and before_install stages only.
            using var project = await test.LoadAsync();
            var chain = (await project.SelectConveyorsAsync([], default))[0];
            using (var client = new RegistryClient())
                foreach (var stage in chain.Stages.Skip(2))
                {
                    var reference = ImageReference.WithTag(RepositoryName.Parse(repo), RegistryStagesStorage.Tag(stage.Signature));
                    await client.DeleteManifestAsync(reference.Repository, (await client.HeadManifestAsync(reference, default))!.Digest, default);
                }

            var push = await RunAsync(hosts[0], "dimg", "stages", "push", repo);
            Assert.Equal(chain.Stages.Count - 2, push.Stderr.Split('\n').Count(l => l.Contains("was not pushed: this engine built it on another copy of its parent stage")));
            using (var client = new RegistryClient())
                foreach (var stage in chain.Stages.Skip(2))
                    Assert.Null(await client.HeadManifestAsync(ImageReference.WithTag(RepositoryName.Parse(repo), RegistryStagesStorage.Tag(stage.Signature)), default));

            var bp = await RunAsync(hosts[0], "dimg", "bp", "--stages-storage", repo, repo);
            Assert.Contains("was built on another copy of its parent than the one in", bp.Stderr);
            await AssertConsistentAsync(test, repo, "after bp");
            // The engine's stages are REPO's now: a second bp builds and pushes nothing.
            var again = await RunAsync(hosts[0], "dimg", "bp", "--stages-storage", repo, repo);
            Assert.DoesNotContain(again.StdoutLines, l => l.Contains("[BUILD]") || l.Contains("[PUSH]") && l.Contains("dimgstage"));
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    /// <summary>
    /// Without claims every job builds what it finds missing, so copies race to be published at every stage: the
    /// lost races, the stages built on a losing copy and the jobs finding another job's copy all happen each round.
    /// </summary>
    [Fact]
    public Task Without_claims_jobs_racing_on_every_stage_publish_only_stages_built_on_the_registrys_parent() =>
        RunRoundsAsync(engines: 2, jobsPerEngine: 2, seed: 24, rounds: 5, claims: false);

    private async Task RunRoundsAsync(int engines, int jobsPerEngine, int seed, int rounds = Rounds, bool claims = true)
    {
        await using var proxy = new Registry.FaultProxy(5000);
        if (!claims) proxy.Rule = r => r.Method == "PUT" && r.Path.Contains("/manifests/" + StageClaims.TagPrefix) ? new Registry.StatusFault(403) : null;
        var hosts = await Task.WhenAll(Enumerable.Range(0, engines).Select(_ => FreshEngine.StartAsync()));
        try
        {
            await Task.WhenAll(hosts.Select(h => h.LoadBaseImageAsync()));
            var random = new Random(seed);
            int builds = 0, stages = 0;
            var clock = Stopwatch.StartNew();
            for (int round = 0; round < rounds; round++)
            {
                var repo = $"{(claims ? "127.0.0.1:5000" : proxy.Host)}/shared-engine/{Guid.NewGuid():N}";
                await using var test = new TestProject(Dappfile(Guid.NewGuid().ToString("N")));
                var jobs = new List<Task<CliResult>>();
                foreach (var job in Enumerable.Range(0, engines * jobsPerEngine).OrderBy(_ => random.Next()))
                {
                    var host = hosts[job % engines];
                    jobs.Add(DappCli.FinishAsync(DappCli.Start(test.Dir, host.Environment(test), "dimg", "bp", "--stages-storage", repo, repo, "--time", "--name", test.Name)));
                    await Task.Delay(random.Next(0, 400));
                }
                var results = await Task.WhenAll(jobs);
                var context = $"round {round}";
                foreach (var r in results) Assert.True(r.ExitCode == 0, $"{context}: a job failed:\n{r.Stderr}{r.Stdout}");
                var chainLength = await AssertConsistentAsync(test, repo, context);
                var built = results.Sum(r => r.StdoutLines.Count(l => l.Contains(" built in ")));
                builds += built;
                stages += chainLength;
                if (built > chainLength) output.WriteLine($"{context}: {built} builds for {chainLength} stages");
            }
            output.WriteLine($"{rounds} rounds, {engines} engine(s) x {jobsPerEngine} jobs{(claims ? "" : " without claims")}: {builds} builds for {stages} stages, {clock.Elapsed.TotalSeconds:0} s");
            if (claims) Assert.True(builds <= stages * 1.5, $"{builds} builds for {stages} stages");
        }
        finally
        {
            foreach (var host in hosts) await host.DisposeAsync();
        }
    }

    /// <summary>
    /// Each stage tag of REPO names its own stage (by label), its layers are all there and its diff IDs start with its
    /// parent stage's; the dimg tag is its last stage plus the dimg labels. Returns the number of stages.
    /// </summary>
    private static async Task<int> AssertConsistentAsync(TestProject test, string repo, string context)
    {
        using var project = await test.LoadAsync();
        var chain = (await project.SelectConveyorsAsync([], default))[0];
        using var client = new RegistryClient();
        var repository = RepositoryName.Parse(repo);
        RegistryImage? parent = null;
        foreach (var stage in chain.Stages)
        {
            var image = await RegistryImage.ReadAsync(client, ImageReference.WithTag(repository, RegistryStagesStorage.Tag(stage.Signature)), default);
            Assert.Equal(stage.Signature, image.Labels.GetValueOrDefault(DappLabels.StageSignature));
            foreach (var layer in image.Manifest.Layers)
                Assert.True(await client.HeadBlobAsync(repository, layer.Digest, default) == layer.Size, $"{context}: a layer of {stage.Name.DappName()} is missing");
            if (parent is not null)
                Assert.True(image.DiffIds.Take(parent.DiffIds.Count).SequenceEqual(parent.DiffIds) && image.DiffIds.Count >= parent.DiffIds.Count,
                    $"{context}: {stage.Name.DappName()} was not built on the registry's copy of its parent (its diff IDs do not start with the parent's)");
            parent = image;
        }
        var dimg = await RegistryImage.ReadAsync(client, ImageReference.Parse($"{repo}/app:latest"), default);
        Assert.True(dimg.DiffIds.SequenceEqual(parent!.DiffIds), $"{context}: the dimg tag's layers are not its last stage's");
        foreach (var (key, value) in parent.Labels.Where(l => l.Key != DappLabels.Dimg))
            Assert.True(dimg.Labels.GetValueOrDefault(key) == value, $"{context}: the dimg tag's label {key} is not its stage's");
        Assert.Equal("true", dimg.Labels.GetValueOrDefault(DappLabels.Dimg));
        return chain.Stages.Count;
    }
}
