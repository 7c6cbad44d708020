using System.Diagnostics;

namespace Dapp.Bench;

public sealed record Run(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

/// <summary>Runs dapp and docker as a user would, timing whole processes.</summary>
public sealed class Tools(string dapp, string docker, string engineA, string engineB)
{
    public string EngineA => engineA;
    public string EngineB => engineB;

    public Task<Run> DappAsync(string engine, string workDir, params string[] args) =>
        RunAsync(dapp, args, workDir, new() { ["DOCKER_HOST"] = engine, ["NO_COLOR"] = "1" });

    public Task<Run> DockerAsync(string engine, params string[] args) => RunAsync(docker, ["-H", engine, .. args], null, []);

    public static async Task<Run> RunAsync(string executable, IReadOnlyList<string> args, string? workDir, Dictionary<string, string> env)
    {
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workDir is not null) start.WorkingDirectory = workDir;
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in env) start.Environment[key] = value;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new Run(process.ExitCode, await stdout, await stderr, clock.Elapsed);
    }

    public async Task<Run> MustAsync(Task<Run> run, string what)
    {
        var result = await run;
        if (result.ExitCode != 0) throw new InvalidOperationException($"{what} failed ({result.ExitCode}): {result.Stderr}{result.Stdout}");
        return result;
    }

    /// <summary>Engine B back to a fresh state: only the base image left (nothing at all without <paramref name="keepBase"/>).</summary>
    public async Task ResetAsync(string engine, bool keepBase = true)
    {
        var images = await DockerAsync(engine, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}");
        var remove = images.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !keepBase || !l.StartsWith("dapp-examples/busybox:", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[0].EndsWith(":<none>") ? l.Split(' ')[1] : l.Split(' ')[0]).ToList();
        if (remove.Count > 0) await DockerAsync(engine, ["rmi", "-f", .. remove]);
        await DockerAsync(engine, "image", "prune", "-f");
    }
}
