
namespace Dapp.Tests.Integration;

/// <summary>Any command line tool, its output captured.</summary>
public static class Tool
{
    public static Task<CliResult> RunAsync(string executable, params string[] args) => RunWithEnvironmentAsync(executable, null, null, args);

    public static async Task<CliResult> RunWithEnvironmentAsync(string executable, string? workDir, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workDir is not null) start.WorkingDirectory = workDir;
        foreach (var (key, value) in env ?? new Dictionary<string, string>()) start.Environment[key] = value;
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>The docker command line client, to look at what dapp made the way a user would.</summary>
public static class DockerCli
{
    public static Task<CliResult> RunAsync(params string[] args) =>
        Tool.RunAsync(Executables.Find("docker") ?? throw new InvalidOperationException("docker CLI not on PATH"), args);

    /// <summary>
    /// <c>docker [-H HOST] commit ARGS</c>; on Podman, <c>podman --remote commit</c>: the docker CLI's commit fails
    /// there (its compat API answers <c>Decode(): EOF</c> to the CLI's request, docs/compatibility.md).
    /// </summary>
    public static async Task<CliResult> CommitAsync(string? host, params string[] args)
    {
        string[] on = host is null ? [] : ["-H", host];
        if (!await IsPodmanAsync(host)) return await RunAsync([.. on, "commit", .. args]);
        var url = host ?? System.Environment.GetEnvironmentVariable("DOCKER_HOST")!;
        return await Tool.RunAsync(Executables.Find("podman") ?? throw new InvalidOperationException("podman not on PATH"), ["--remote", "--url", url, "commit", "--format", "docker", .. args]);
    }

    /// <summary>What Podman's commit of a container that ran adds where the base image lacks it: the container's mount points, empty.</summary>
    public static readonly string[] PodmanMountPoints =
        ["dev/", "proc/", "sys/", "run/", "run/.containerenv", "etc/hostname", "etc/hosts", "etc/mtab", "etc/resolv.conf"];

    /// <summary>Whether the engine (DOCKER_HOST when <paramref name="host"/> is null) is Podman's API service.</summary>
    public static async Task<bool> IsPodmanAsync(string? host)
    {
        string[] on = host is null ? [] : ["-H", host];
        return (await RunAsync([.. on, "version", "--format", "{{range .Server.Components}}{{.Name}};{{end}}"])).Stdout.Contains("Podman", StringComparison.Ordinal);
    }

    /// <summary>Output of a shell command in a throwaway container of the image.</summary>
    public static async Task<string> ShellAsync(string image, string script)
    {
        var result = await RunAsync("run", "--rm", "--network=none", "--entrypoint", "/bin/sh", image, "-c", script);
        Assert.True(result.ExitCode == 0, $"docker run {image} failed: {result.Stderr}");
        return result.Stdout.TrimEnd('\n');
    }

    /// <summary>Like <see cref="ShellAsync"/>, on another engine.</summary>
    public static async Task<string> ShellAsyncOn(string host, string image, string script)
    {
        var result = await RunAsync("-H", host, "run", "--rm", "--network=none", "--entrypoint", "/bin/sh", image, "-c", script);
        Assert.True(result.ExitCode == 0, $"docker run {image} failed: {result.Stderr}");
        return result.Stdout.TrimEnd('\n');
    }

    public static async Task<IReadOnlyList<string>> ContainerNamesAsync(string prefix)
    {
        var result = await RunAsync("ps", "-a", "--format", "{{.Names}}");
        return result.StdoutLines.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToList();
    }
}
