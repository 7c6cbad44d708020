namespace Dapp.Tests.Integration;

/// <summary>
/// The README's entry point, scripts/dapp, publishes the Native AOT binary once (scripts/publish) and runs it: it
/// builds the bundled example, git dimg included; a second run reuses the binary.
/// </summary>
[Collection(EngineCollection.Name)]
public class NativeAotTests
{
    [Fact]
    public async Task Scripts_dapp_runs_the_published_native_binary_which_builds_the_example()
    {
        var work = Directory.CreateTempSubdirectory("dapp-aot-work-").FullName;
        var name = "aot-" + Guid.NewGuid().ToString("N")[..8];
        var script = Path.Combine(TestPaths.RepoRoot, "scripts", "dapp");
        var binary = Path.Combine(TestPaths.RepoRoot, "artifacts", "aot", "dapp");
        try
        {
            var version = await Tool.RunAsync(script, "--version");
            Assert.True(version.ExitCode == 0, version.Stderr);
            Assert.True(File.Exists(binary));
            Assert.False(File.Exists(Path.Combine(TestPaths.RepoRoot, "artifacts", "aot", "dapp.dll")), "a native binary, not a managed app");
            var published = File.GetLastWriteTimeUtc(binary);

            TestFiles.CopyDirectory(Path.Combine(TestPaths.RepoRoot, "examples"), Path.Combine(work, "examples"));
            var repo = await GitRepo.InitAsync(work);
            await repo.CommitAsync("example project");
            var env = new Dictionary<string, string> { ["DAPP_HOME"] = Path.Combine(work, ".home"), ["NO_COLOR"] = "1", ["DAPP_EXAMPLE_VERSION"] = "aot" };
            var build = await Tool.RunWithEnvironmentAsync(script, Path.Combine(work, "examples"), env, "dimg", "build", "--name", name);
            Assert.True(build.ExitCode == 0, build.Stderr);
            Assert.Contains(build.StdoutLines, l => l.StartsWith("hello-git") && l.Contains("g_a_archive") && l.EndsWith("[BUILD]"));
            Assert.Contains(build.StdoutLines, l => l.StartsWith("backend") && l.Contains("docker_instructions"));
            var again = await Tool.RunWithEnvironmentAsync(script, Path.Combine(work, "examples"), env, "dimg", "build", "--name", name);
            Assert.DoesNotContain(again.StdoutLines, l => l.EndsWith("[BUILD]"));
            Assert.DoesNotContain("publishing", again.Stderr);
            Assert.Equal(published, File.GetLastWriteTimeUtc(binary));
        }
        finally
        {
            await DappCli.RunAsync(Path.Combine(work, "examples"), null, "dimg", "stages", "flush", "local", "--name", name, "--quiet");
            Directory.Delete(work, true);
        }
    }
}
