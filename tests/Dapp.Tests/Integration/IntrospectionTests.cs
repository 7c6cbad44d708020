using System.Diagnostics;

namespace Dapp.Tests.Integration;

/// <summary>dapp's --introspect-* options and dimg run's default shell, under a pseudo-terminal (script -qc) as a user at a terminal has them.</summary>
[Collection(EngineCollection.Name)]
public class IntrospectionTests
{
    /// <summary>dapp under a pseudo-terminal, with <paramref name="typed"/> as what the user types.</summary>
    private static async Task<CliResult> AtTerminalAsync(TestProject test, string typed, params string[] args)
    {
        var command = string.Join(' ', new[] { DappCli.Executable }.Concat(args).Concat(["--name", test.Name]).Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        var start = new ProcessStartInfo("/usr/bin/script", ["-qfec", command, "/dev/null"])
        {
            WorkingDirectory = test.Dir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DAPP_HOME"] = test.HomeDir;
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(typed);
        await process.StandardInput.FlushAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        process.StandardInput.Close();
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Introspect_error_opens_a_shell_in_the_failed_state_and_the_build_still_fails_and_without_a_terminal_it_is_a_clear_error()
    {
        await using var test = new TestProject("""
            dimg: app
            from: dapp-examples/busybox:1.35
            shell:
              install: echo installed-state-4711 > /marker && false
            """);
        var introspected = await AtTerminalAsync(test, "cat /marker; exit\n", "dimg", "build", "--introspect-error");
        Assert.Equal(1, introspected.ExitCode);
        var output = introspected.Stdout.Replace("\r", "");
        Assert.Contains("introspecting failed stage install", output);
        Assert.Contains("\ninstalled-state-4711\n", output);
        Assert.Contains("stage install failed: a command exited with code 1", output);
        Assert.Empty((await DockerCli.RunAsync("images", "-q", $"dapp-introspect-{test.Name}")).StdoutLines);

        var withoutTerminal = await DappCli.RunAsync(test, "dimg", "build", "--introspect-error");
        Assert.Equal(1, withoutTerminal.ExitCode);
        Assert.Contains("need a terminal", withoutTerminal.Stderr);

        var unknownStage = await DappCli.RunAsync(test, "dimg", "build", "--introspect-stage", "instal");
        Assert.Equal(1, unknownStage.ExitCode);
        Assert.Contains("--introspect-stage instal: not a stage", unknownStage.Stderr);
    }

    // Not on rootless Podman here: the tests run dapp as root, the service as another user, who cannot reach the
    // build_dir root makes (a rootless host runs both as one user; docs/compatibility.md).
    [Fact]
    [Trait("rootless", "unsupported")]
    public async Task Introspect_stage_opens_a_shell_after_the_stage_with_its_mounts_and_dimg_run_alone_opens_a_shell()
    {
        await using var test = new TestProject("""
            dimg: app
            from: dapp-examples/busybox:1.35
            mount:
            - from: build_dir
              to: /cache
            shell:
              install: echo kept > /cache/file && echo after-install > /state
              setup: echo after-setup >> /state
            """);
        var introspected = await AtTerminalAsync(test, "cat /state /cache/file; exit\n", "dimg", "build", "--introspect-stage", "install");
        Assert.True(introspected.ExitCode == 0, introspected.Stdout + introspected.Stderr);
        var output = introspected.Stdout.Replace("\r", "");
        Assert.Contains("\nafter-install\nkept\n", output);
        Assert.DoesNotContain("\nafter-setup\n", output);

        var run = await AtTerminalAsync(test, "cat /state; exit\n", "dimg", "run");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("\nafter-install\nafter-setup\n", run.Stdout.Replace("\r", ""));
    }
}
