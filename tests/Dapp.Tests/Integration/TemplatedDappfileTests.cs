namespace Dapp.Tests.Integration;

/// <summary>A dappfile written as dapp users write them, a Go template with snippets (docs/dappfile.md), through the CLI.</summary>
[Collection(EngineCollection.Name)]
public class TemplatedDappfileTests
{
    private static readonly string Case = Path.Combine(TestPaths.RepoRoot, "tests", "Dapp.Tests", "Templates", "acceptance-project");

    /// <summary>The corpus case as a project of its own (dappfile, .dappfiles snippets, the VERSION file .Files.Get reads; its expected output is inert there).</summary>
    private static TestProject Project()
    {
        var test = new TestProject(File.ReadAllText(Path.Combine(Case, "dappfile.yml")));
        TestFiles.CopyDirectory(Case, test.Dir);
        return test;
    }

    [Fact]
    public async Task A_templated_project_lists_renders_and_builds_exactly_what_Go_renders()
    {
        await using var test = Project();
        var render = await DappCli.RunAsync(test, "dimg", "render");
        Assert.True(render.ExitCode == 0, render.Stderr);
        Assert.Equal(File.ReadAllText(Path.Combine(Case, "expected")), render.Stdout);

        var list = await DappCli.RunAsync(test, "dimg", "list");
        Assert.Equal(["api", "web"], list.StdoutLines);

        var build = await DappCli.RunAsync(test, "dimg", "build");
        Assert.True(build.ExitCode == 0, build.Stderr + build.Stdout);
        foreach (var (dimg, name, b64) in new[] { ("api", "API", "YXBp"), ("web", "WEB", "d2Vi") })
        {
            var image = (await DappCli.RunAsync(test, "dimg", "stage", "image", dimg)).Stdout.Trim();
            var files = await DockerCli.RunAsync("run", "--rm", "--network=none", "--entrypoint", "sh", image, "-c",
                "cat /version /name /braces /b64 /msg; ls /only 2>/dev/null || echo no-only");
            Assert.Equal(["2.4.1", name, "{{literal}}", b64, $"hello {dimg}", dimg == "api" ? "/only" : "no-only"], files.StdoutLines);
        }
    }

    [Theory]
    [InlineData("dimg: app\nfrom: busybox\n{{ if true }}\nshell:\n  setup: echo x\n", "dappfile.yml:3:4: unexpected EOF: this {{if}} is not closed with {{end}}")]
    [InlineData("dimg: app\nfrom: {{ nosuchfunction \"x\" }}\n", "dappfile.yml:2:10: function \"nosuchfunction\" not defined")]
    public async Task A_broken_template_fails_with_the_file_and_line_and_no_stack_trace(string dappfile, string message)
    {
        await using var test = new TestProject(dappfile);
        var result = await DappCli.RunAsync(test, "dimg", "build");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"Error: {message}", result.Stderr.Trim());
    }

    [Fact]
    public async Task A_rendering_that_is_not_a_dappfile_is_written_to_dappfile_render_yml()
    {
        await using var test = new TestProject("dimg: app\nfrom: busybox\n{{ \"shell:\\n  instal: x\" }}\n");
        var result = await DappCli.RunAsync(test, "dimg", "build");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(".dappfile.render.yml", result.Stderr);
        Assert.Contains("instal", result.Stderr);
        var dump = Path.Combine(test.Dir, ".dappfile.render.yml");
        Assert.Equal("dimg: app\nfrom: busybox\nshell:\n  instal: x\n", File.ReadAllText(dump));
        // It may hold what env put in (a token): the user's alone, and the error says where it is.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dump));
        Assert.Contains($"written to {dump}, readable by you alone", result.Stderr);
        // A second failing rendering replaces it, still private.
        File.SetUnixFileMode(dump, (UnixFileMode)0b110_100_100);
        Assert.Equal(1, (await DappCli.RunAsync(test, "dimg", "build")).ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dump));
    }
}
