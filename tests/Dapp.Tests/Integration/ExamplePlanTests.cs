namespace Dapp.Tests.Integration;

/// <summary>
/// dapp dimg plan on the bundled example (examples/), compared with committed outputs: before any build, and after a
/// build followed by a change of each kind the example has (a command, an artifact's command, a docker instruction, a
/// git file). DAPP_UPDATE_GOLDEN=1 writes the outputs instead (review them before committing).
/// </summary>
[Collection(EngineCollection.Name)]
public class ExamplePlanTests
{
    private static readonly string Golden = Path.Combine(TestPaths.RepoRoot, "tests", "Dapp.Tests", "Integration", "Golden");

    [Fact]
    public async Task Plan_of_the_example_before_and_after_changes_is_the_committed_output()
    {
        await using var test = new TestProject($"dimg: unused\nfrom: {EngineFixture.BaseImage}\n");
        var repo = await GitRepo.InitAsync(test.Dir);
        // DAPP_HOME (locks, build dirs) is under the project dir: not part of any commit.
        repo.Write(".gitignore", ".home/\n.build/\n");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, "examples"), "*", SearchOption.AllDirectories))
            repo.WriteBytes(Path.Combine("examples", Path.GetRelativePath(Path.Combine(TestPaths.RepoRoot, "examples"), file)), File.ReadAllBytes(file));
        await CommitAsync(repo, "example", "2026-01-01T00:00:00Z");
        var work = Path.Combine(test.Dir, "examples");
        var env = new Dictionary<string, string> { ["DAPP_HOME"] = test.HomeDir, ["DAPP_EXAMPLE_VERSION"] = "golden" };
        async Task<CliResult> Dapp(params string[] args)
        {
            var result = await DappCli.RunAsync(work, env, [.. args, "--name", test.Name]);
            Assert.True(result.ExitCode == 0, $"dapp {string.Join(' ', args)}: {result.Stderr}");
            return result;
        }

        Check("plan-example-first.txt", (await Dapp("dimg", "plan")).Stdout);
        await Dapp("dimg", "build");
        Edit(work, "  - chmod +x /app/run.sh", "  - chmod 755 /app/run.sh");
        Edit(work, "date -u +%Y > /build/out/year.txt", "date -u +%Y-%m > /build/out/year.txt");
        Edit(work, "CMD: cat /srv/www/index.html", "CMD: cat /srv/www/index.html /dev/null");
        repo.Write("examples/git-app/app.sh", File.ReadAllText(Path.Combine(work, "git-app", "app.sh")) + "# changed\n");
        await CommitAsync(repo, "changes", "2026-01-02T00:00:00Z");
        Check("plan-example-changed.txt", (await Dapp("dimg", "plan")).Stdout);
    }

    /// <summary>A commit with fixed dates: its ID, which g_a_latest_patch's signature holds, is the same on every run.</summary>
    private static async Task CommitAsync(GitRepo repo, string message, string date)
    {
        await repo.GitAsync("add", "-A", ".");
        var env = new Dictionary<string, string> { ["GIT_AUTHOR_DATE"] = date, ["GIT_COMMITTER_DATE"] = date };
        var commit = await Tool.RunWithEnvironmentAsync("/usr/bin/git", repo.Dir, env,
            ["-c", "user.name=dapp test", "-c", "user.email=test@dapp", "-c", "commit.gpgsign=false", "commit", "-q", "-m", message]);
        Assert.True(commit.ExitCode == 0, commit.Stderr);
    }

    private static void Edit(string dir, string from, string to)
    {
        var path = Path.Combine(dir, "dappfile.yml");
        var text = File.ReadAllText(path);
        Assert.Contains(from, text);
        File.WriteAllText(path, text.Replace(from, to));
    }

    private static void Check(string name, string actual)
    {
        var path = Path.Combine(Golden, name);
        if (Environment.GetEnvironmentVariable("DAPP_UPDATE_GOLDEN") == "1") File.WriteAllText(path, actual);
        Assert.Equal(File.ReadAllText(path), actual);
    }
}
