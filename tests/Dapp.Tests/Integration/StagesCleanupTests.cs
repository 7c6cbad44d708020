using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Dapp.Stages;
using Dapp.Storage;

namespace Dapp.Tests.Integration;

/// <summary><c>dapp dimg stages cleanup repo</c> on the real registry (docs/cleanup.md).</summary>
[Collection(EngineCollection.Name)]
public class StagesCleanupTests
{
    private readonly string _marker = Guid.NewGuid().ToString("N")[..12];
    private readonly string _repo = $"127.0.0.1:5000/cleanup/{Guid.NewGuid():N}";

    [Fact]
    public async Task Improper_repo_cache_keeps_the_chains_dimg_tags_need_and_nothing_goes_inside_the_grace_period()
    {
        await using var test = new TestProject(SharedDappfiles.ApiWebAndBuilder(_marker, "setup-1"));
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "bp", "--stages-storage", _repo, _repo, "--tag-plain", "v1")).ExitCode);
        test.WriteDappfile(SharedDappfiles.ApiWebAndBuilder(_marker, "setup-2"));
        Assert.Equal(0, (await DappCli.RunAsync(test, "dimg", "bp", "--stages-storage", _repo, _repo, "--tag-plain", "v2")).ExitCode);
        using var project = await test.LoadAsync();
        var needed = Conveyor.WithDependencies(await project.SelectConveyorsAsync([], default))
            .SelectMany(c => c.Stages).Select(s => RegistryStagesStorage.Tag(s.Signature)).ToHashSet();
        var all = await StageTags.ListAsync(_repo);
        Assert.Equal(needed.Count + 2, all.Count);

        // api:v1 goes: its setup and docker_instructions are needed by no tag any more (web:v1 stays, with web:v2's digest).
        using var client = new RegistryClient();
        var v1 = ImageReference.Parse($"{_repo}/api:v1");
        await client.DeleteManifestAsync(v1.Repository, (await client.HeadManifestAsync(v1, default))!.Digest, default);

        var graced = await DappCli.RunAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", _repo);
        Assert.True(graced.ExitCode == 0, graced.Stderr + graced.Stdout);
        Assert.Equal(2, graced.StdoutLines.Count(l => l.Contains("younger than")));
        Assert.Equal(all.Order(), (await StageTags.ListAsync(_repo)).Order());

        var dry = await DappCli.RunAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", "0s", "--dry-run", _repo);
        Assert.True(dry.ExitCode == 0, dry.Stderr + dry.Stdout);
        Assert.Equal(2, dry.StdoutLines.Count(l => l.StartsWith("would delete " + _repo + ":dimgstage-")));
        Assert.Equal(all.Order(), (await StageTags.ListAsync(_repo)).Order());

        var cleanup = await DappCli.RunAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", "0s", _repo);
        Assert.True(cleanup.ExitCode == 0, cleanup.Stderr + cleanup.Stdout);
        Assert.Equal(needed.Order(), (await StageTags.ListAsync(_repo)).Order());
        await StageTags.AssertCompleteAsync(_repo, "after the cleanup");
        Assert.NotNull(await client.HeadManifestAsync(ImageReference.Parse($"{_repo}/web:v1"), default));

        // Nothing left to delete; a build in distributed mode finds everything it needs.
        var again = await DappCli.RunAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", "0s", _repo);
        Assert.Contains("deleted 0 of", again.Stdout);
        var build = await DappCli.RunAsync(test, "dimg", "build", "--stages-storage", _repo);
        Assert.DoesNotContain(build.StdoutLines, l => l.EndsWith("[BUILD]"));
    }

    [Fact]
    public async Task The_grace_period_counts_from_the_push_not_from_the_build()
    {
        await using var test = new TestProject(SharedDappfiles.ApiWebAndBuilder(_marker, "setup-grace"));
        await test.BuildAsync();
        // Built 18 s before the push: older than the grace period (15 s) by the build's clock, just pushed by the
        // registry's. (With 5 s, the push and the cleanup took longer than the grace period beside the rest of the suite.)
        await Task.Delay(TimeSpan.FromSeconds(18));
        var push = await DappCli.RunAsync(test, "dimg", "stages", "push", _repo);
        Assert.True(push.ExitCode == 0, push.Stderr);
        var pushed = await StageTags.ListAsync(_repo);
        Assert.NotEmpty(pushed);
        // No dimg tag is built on them: only the grace period keeps them.
        var cleanup = await DappCli.RunAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", "15s", _repo);
        Assert.True(cleanup.ExitCode == 0, cleanup.Stderr);
        Assert.Equal(pushed.Order(), (await StageTags.ListAsync(_repo)).Order());
        Assert.Equal(pushed.Count, cleanup.StdoutLines.Count(l => l.StartsWith("keep ") && l.Contains("younger than 15 s")));
        // Once older than that since the push, they go.
        await Task.Delay(TimeSpan.FromSeconds(16));
        var later = await DappCli.RunAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", "15s", _repo);
        Assert.True(later.ExitCode == 0, later.Stderr);
        Assert.Empty(await StageTags.ListAsync(_repo));
    }

    [Fact]
    public async Task Policies_must_be_named_and_durations_make_sense()
    {
        await using var test = new TestProject(SharedDappfiles.ApiWebAndBuilder(_marker));
        var none = await DappCli.RunAsync(test, "dimg", "stages", "cleanup", "repo", _repo);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("--improper-repo-cache", none.Stderr);
        var bad = await DappCli.RunAsync(test, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--keep-younger-than", "2 hours", _repo);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--keep-younger-than '2 hours'", bad.Stderr);
    }
}
