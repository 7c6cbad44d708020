namespace Dapp.Tests.Integration;

/// <summary>
/// The README's entry point, scripts/dapp, publishes the Native AOT binary once (scripts/publish) and runs it: it
/// builds the bundled example, git dimg included; a second run reuses the binary. Then the tool package, as README
/// installs it: scripts/pack (reusing the publish's native compile), dotnet tool install, and the installed dapp
/// pushes the example with its stages and pulls them on the second engine.
/// </summary>
/// <remarks>
/// Not in the engine collection: it runs beside it, in a collection of its own. Most of its time is the native
/// compile, on CPUs the engine tests leave mostly idle (the suite used 0.6 of its 2 cores on average), and it
/// touches only its own project name, repository and <c>artifacts/</c>, so the engine tests cannot see it.
/// </remarks>
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

            var packages = Path.Combine(work, "packages");
            var pack = await Tool.RunAsync(Path.Combine(TestPaths.RepoRoot, "scripts", "pack"), packages);
            Assert.True(pack.ExitCode == 0, pack.Stderr);
            Assert.Equal(Path.Combine(packages, "Dapp.Cli." + version.Stdout.Trim().Split('+')[0] + ".nupkg"), pack.StdoutLines.Last());
            var toolPath = Path.Combine(work, "tool");
            var install = await Tool.RunAsync("dotnet", "tool", "install", "--tool-path", toolPath, "--add-source", packages, "Dapp.Cli");
            Assert.True(install.ExitCode == 0, install.Stdout + install.Stderr);
            var tool = Path.Combine(toolPath, "dapp");
            var installed = new FileInfo(tool).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? tool;
            Assert.Contains("dapp.cli.linux-x64", installed);
            Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(installed)!, "dapp.dll")), "the linux-x64 package's native binary, not a managed app");

            var registryRepo = $"127.0.0.1:5000/tool/{name}";
            var bp = await Tool.RunWithEnvironmentAsync(tool, Path.Combine(work, "examples"), env, "dimg", "bp", "--with-stages", registryRepo, "--name", name);
            Assert.True(bp.ExitCode == 0, bp.Stderr);
            Assert.Contains(bp.StdoutLines, l => l.EndsWith("[PUSH]"));
            var onB = new Dictionary<string, string>(env) { ["DOCKER_HOST"] = SecondEngine.Host };
            var pull = await Tool.RunWithEnvironmentAsync(tool, Path.Combine(work, "examples"), onB, "dimg", "stages", "pull", registryRepo, "--name", name);
            Assert.True(pull.ExitCode == 0, pull.Stderr);
            Assert.Contains(pull.StdoutLines, l => l.EndsWith("[PULL]"));
        }
        finally
        {
            await DappCli.RunAsync(Path.Combine(work, "examples"), null, "dimg", "stages", "flush", "local", "--name", name, "--quiet");
            await DappCli.RunAsync(Path.Combine(work, "examples"), new Dictionary<string, string> { ["DOCKER_HOST"] = SecondEngine.Host },
                "dimg", "stages", "flush", "local", "--name", name, "--quiet");
            Directory.Delete(work, true);
        }
    }
}
