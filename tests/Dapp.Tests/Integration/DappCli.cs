using System.Diagnostics;

namespace Dapp.Tests.Integration;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public IEnumerable<string> StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Runs the real dapp executable, as a user would.</summary>
public static class DappCli
{
    public static string Executable => Path.Combine(AppContext.BaseDirectory, "dapp");

    public static Process Start(string workDir, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in env ?? new Dictionary<string, string>()) start.Environment[key] = value;
        return Process.Start(start)!;
    }

    public static Task<CliResult> RunAsync(string workDir, IReadOnlyDictionary<string, string>? env, params string[] args) =>
        FinishAsync(Start(workDir, env, args));

    /// <summary>
    /// Waits for a started dapp (at most 5 minutes) and disposes of it. A dapp still running then is interrupted as a
    /// user would (SIGINT: it removes its containers), killed 30 s later if need be, and the test fails with what it
    /// had printed: where it hung.
    /// </summary>
    public static async Task<CliResult> FinishAsync(Process started)
    {
        using var process = started;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            throw new TimeoutException($"dapp {string.Join(' ', process.StartInfo.ArgumentList)} ran for more than 5 minutes; it printed:\n"
                                       + await stdout + "\n--- stderr ---\n" + await stderr);
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public static Task<CliResult> RunAsync(TestProject project, params string[] args) =>
        RunAsync(project.Dir, new Dictionary<string, string> { ["DAPP_HOME"] = project.HomeDir }, [.. args, "--name", project.Name]);
}
