using System.Diagnostics;
using System.Net.Sockets;
using Dapp.Tests.Integration.Registry;

namespace Dapp.Tests.Integration.Git;

/// <summary>An OpenSSH server on a free loopback port, with its own host key and one authorized key, started by the test.</summary>
public sealed class SshServer : IAsyncDisposable
{
    private readonly Process _sshd;
    private readonly string _dir;

    private SshServer(Process sshd, string dir, int port)
    {
        _sshd = sshd;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The user the server lets in with the key (the one running the tests).</summary>
    public static string User => Environment.UserName;

    public string Url(string repositoryPath) => $"ssh://{User}@127.0.0.1:{Port}{repositoryPath}";

    /// <summary>A new key pair; returns the private key's path (the public one is next to it, .pub).</summary>
    public static async Task<string> NewKeyAsync(string dir)
    {
        var key = Path.Combine(dir, "key-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(0, (await Tool.RunAsync("/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)).ExitCode);
        return key;
    }

    public static async Task<SshServer> StartAsync(string authorizedPublicKey)
    {
        var dir = Directory.CreateTempSubdirectory("dapp-sshd-").FullName;
        Assert.Equal(0, (await Tool.RunAsync("/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(dir, "host_key"))).ExitCode);
        File.Copy(authorizedPublicKey, Path.Combine(dir, "authorized_keys"));
        Directory.CreateDirectory("/run/sshd");
        var port = FreePort.Next();
        File.WriteAllText(Path.Combine(dir, "sshd_config"), $"""
            ListenAddress 127.0.0.1
            Port {port}
            HostKey {dir}/host_key
            AuthorizedKeysFile {dir}/authorized_keys
            PidFile {dir}/sshd.pid
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            AllowUsers {User}
            """);
        var sshd = Process.Start(new ProcessStartInfo("/usr/sbin/sshd", ["-D", "-e", "-f", Path.Combine(dir, "sshd_config")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        sshd.ErrorDataReceived += (_, _) => { };
        sshd.OutputDataReceived += (_, _) => { };
        sshd.BeginErrorReadLine();
        sshd.BeginOutputReadLine();
        for (int i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return new SshServer(sshd, dir, port);
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        sshd.Kill();
        throw new InvalidOperationException($"sshd on port {port} did not start");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_sshd.HasExited) _sshd.Kill(entireProcessTree: true);
        await _sshd.WaitForExitAsync();
        _sshd.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
