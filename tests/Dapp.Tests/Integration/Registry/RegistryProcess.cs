using System.Diagnostics;

namespace Dapp.Tests.Integration.Registry;

/// <summary>A registry (the Debian docker-registry) the test starts itself on a free loopback port, with its own storage.</summary>
public sealed class RegistryProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private RegistryProcess(Process process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>Starts a registry; <paramref name="authSection"/> is the YAML of its <c>auth:</c> key (null for none).</summary>
    public static async Task<RegistryProcess> StartAsync(string? authSection, bool deleteEnabled = true)
    {
        var dir = Directory.CreateTempSubdirectory("dapp-registry-").FullName;
        var port = FreePort.Next();
        var config = $"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {dir}/data
              delete:
                enabled: {(deleteEnabled ? "true" : "false")}
            http:
              addr: 127.0.0.1:{port}
            {(authSection is null ? "" : "auth:\n" + authSection)}
            """;
        await File.WriteAllTextAsync(Path.Combine(dir, "config.yml"), config);
        var start = new ProcessStartInfo("/usr/bin/docker-registry", ["serve", Path.Combine(dir, "config.yml")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient();
        for (int i = 0; i < 100; i++)
        {
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/v2/");
                return new RegistryProcess(process, dir, port);
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }
        process.Kill();
        throw new InvalidOperationException($"the test registry on port {port} did not start");
    }

    public static async Task<string> HtpasswdAsync(string user, string password)
    {
        var result = await Tool.RunAsync("/usr/bin/htpasswd", "-Bbn", user, password);
        return result.Stdout.Trim() + "\n";
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(_dir, true);
    }
}
