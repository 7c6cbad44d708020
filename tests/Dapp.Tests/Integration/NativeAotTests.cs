namespace Dapp.Tests.Integration;

/// <summary>The Native AOT binary made by scripts/publish builds the bundled example, git dimg included.</summary>
[Collection(EngineCollection.Name)]
public class NativeAotTests
{
    [Fact]
    public async Task The_published_native_binary_builds_the_example()
    {
        var output = Directory.CreateTempSubdirectory("dapp-aot-").FullName;
        var work = Directory.CreateTempSubdirectory("dapp-aot-work-").FullName;
        var name = "aot-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var publish = await Tool.RunAsync("/bin/bash", Path.Combine(TestPaths.RepoRoot, "scripts", "publish"), output);
            Assert.True(publish.ExitCode == 0, publish.Stderr);
            var binary = Path.Combine(output, "dapp");
            Assert.Equal(binary, publish.Stdout.Trim());
            Assert.False(File.Exists(Path.Combine(output, "dapp.dll")), "a native binary, not a managed app");

            CopyDirectory(Path.Combine(TestPaths.RepoRoot, "examples"), Path.Combine(work, "examples"));
            var repo = await GitRepo.InitAsync(work);
            await repo.CommitAsync("example project");
            var env = new Dictionary<string, string> { ["DAPP_HOME"] = Path.Combine(work, ".home"), ["NO_COLOR"] = "1", ["DAPP_EXAMPLE_VERSION"] = "aot" };
            var build = await Tool.RunWithEnvironmentAsync(binary, Path.Combine(work, "examples"), env, "dimg", "build", "--name", name);
            Assert.True(build.ExitCode == 0, build.Stderr);
            Assert.Contains(build.StdoutLines, l => l.StartsWith("hello-git") && l.Contains("g_a_archive") && l.EndsWith("[BUILD]"));
            Assert.Contains(build.StdoutLines, l => l.StartsWith("backend") && l.Contains("docker_instructions"));
            var again = await Tool.RunWithEnvironmentAsync(binary, Path.Combine(work, "examples"), env, "dimg", "build", "--name", name);
            Assert.DoesNotContain(again.StdoutLines, l => l.EndsWith("[BUILD]"));
        }
        finally
        {
            await DappCli.RunAsync(Path.Combine(work, "examples"), null, "dimg", "stages", "flush", "local", "--name", name, "--quiet");
            Directory.Delete(output, true);
            Directory.Delete(work, true);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
    }
}
