using System.Diagnostics;
using Dapp.Engine;

namespace Dapp.Tests.Integration;

/// <summary>
/// A build host of a test's own: a dockerd with its own data root, exec root, pidfile, socket and containerd namespace,
/// empty (not even a base image), stopped and deleted on dispose. About a second to start.
/// </summary>
public sealed class FreshEngine : IAsyncDisposable
{
    private readonly Process _dockerd;
    private readonly string _dir;

    private FreshEngine(Process dockerd, string dir)
    {
        _dockerd = dockerd;
        _dir = dir;
    }

    public string Socket => Path.Combine(_dir, "docker.sock");

    public string Host => "unix://" + Socket;

    /// <summary>The TLS endpoint, when started with certificates.</summary>
    public string? TcpHost { get; private init; }

    /// <summary>With <paramref name="tls"/>, it also listens on <see cref="TcpHost"/> with --tlsverify (client certificates of that authority only).</summary>
    public static async Task<FreshEngine> StartAsync(TestCertificates? tls = null)
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        // Short: a unix socket path has at most 107 bytes.
        var dir = $"/tmp/dfe-{id}";
        Directory.CreateDirectory(dir);
        var start = new ProcessStartInfo("dockerd")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            "--bridge=none", "--iptables=false", "--ip6tables=false", "--host", $"unix://{dir}/docker.sock", "--pidfile", $"{dir}/docker.pid",
            "--data-root", $"{dir}/data", "--exec-root", $"{dir}/exec", "--containerd-namespace", $"dfe-{id}", "--containerd-plugins-namespace", $"dfe-{id}-plugins",
        }) start.ArgumentList.Add(arg);
        var tcpPort = 0;
        if (tls is not null)
        {
            tcpPort = Registry.FreePort.Next();
            foreach (var arg in new[] { "--host", $"tcp://127.0.0.1:{tcpPort}", "--tlsverify", "--tlscacert", tls.CaFile, "--tlscert", tls.ServerCertFile, "--tlskey", tls.ServerKeyFile })
                start.ArgumentList.Add(arg);
        }
        var dockerd = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        dockerd.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        dockerd.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        dockerd.BeginOutputReadLine();
        dockerd.BeginErrorReadLine();
        var engine = new FreshEngine(dockerd, dir) { TcpHost = tls is null ? null : $"tcp://127.0.0.1:{tcpPort}" };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var client = DockerEngine.Connect(engine.Host);
            try
            {
                await client.PingAsync(default);
                return engine;
            }
            catch (DappException) when (clock.Elapsed < TimeSpan.FromSeconds(60) && !dockerd.HasExited)
            {
                await Task.Delay(100);
            }
            catch (DappException e)
            {
                await engine.DisposeAsync();
                string tail;
                lock (log) tail = log.ToString();
                throw new InvalidOperationException($"dockerd on {engine.Socket} did not come up: {e.Message}\n{tail[^Math.Min(2000, tail.Length)..]}");
            }
        }
    }

    /// <summary>The environment of a dapp process run on this host: its engine, and a DAPP_HOME of its own (locks, build dirs).</summary>
    public Dictionary<string, string> Environment(TestProject test) =>
        new() { ["DOCKER_HOST"] = Host, ["DAPP_HOME"] = test.HomeDir + "-" + Path.GetFileName(_dir) };

    /// <summary>Gives this engine the base image the tests build on (made locally, on the first engine).</summary>
    public async Task LoadBaseImageAsync()
    {
        var tar = Path.Combine(_dir, "base.tar");
        Assert.Equal(0, (await DockerCli.RunAsync("save", "-o", tar, EngineFixture.BaseImage)).ExitCode);
        Assert.Equal(0, (await DockerCli.RunAsync("-H", Host, "load", "-q", "-i", tar)).ExitCode);
        File.Delete(tar);
    }

    /// <summary>The images this engine has, as docker lists them.</summary>
    public async Task<IReadOnlyList<string>> ImagesAsync() =>
        (await DockerCli.RunAsync("-H", Host, "images", "-a", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")).StdoutLines.ToList();

    public async ValueTask DisposeAsync()
    {
        if (!_dockerd.HasExited)
        {
            Process.Start("kill", ["-TERM", _dockerd.Id.ToString()])!.WaitForExit();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _dockerd.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _dockerd.Kill();
                await _dockerd.WaitForExitAsync();
            }
        }
        _dockerd.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A mount the engine left behind; the next boot clears /tmp.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
