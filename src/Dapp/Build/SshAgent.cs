using System.Diagnostics;

namespace Dapp.Build;

/// <summary>
/// The ssh-agent that build commands reach through <c>SSH_AUTH_SOCK</c> (as dapp did), so that <c>install</c> can
/// <c>git clone</c> a private dependency while no key is ever inside a container or a layer: with <c>--ssh-key</c>, an
/// agent of dapp's own holding those keys for the length of the command; else the user's agent, when
/// <c>SSH_AUTH_SOCK</c> names one; else none.
/// </summary>
internal sealed class SshAgent : IDisposable
{
    /// <summary>Where build containers see the agent's socket (dapp's path).</summary>
    public const string ContainerSocket = "/tmp/dapp-ssh-agent";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly Process? _process;
    private readonly string? _dir;

    private SshAgent(string socket, Process? process, string? dir)
    {
        Socket = socket;
        _process = process;
        _dir = dir;
    }

    /// <summary>The agent's socket on this host.</summary>
    public string Socket { get; }

    public static async Task<SshAgent?> StartAsync(IReadOnlyList<string> keys, Func<string, string?> environment, CancellationToken ct)
    {
        if (keys.Count == 0)
            return environment("SSH_AUTH_SOCK") is { Length: > 0 } user && File.Exists(user) ? new SshAgent(user, null, null) : null;

        // A private directory: the socket is as good as the keys to whoever can reach it.
        var dir = Directory.CreateTempSubdirectory("dapp-ssh-agent-").FullName;
        var socket = Path.Combine(dir, "agent.sock");
        Process process;
        try
        {
            process = Process.Start(Start("ssh-agent", null, "-D", "-a", socket))!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Directory.Delete(dir, recursive: true);
            throw new DappException($"--ssh-key needs ssh-agent on PATH ({e.Message}): install it (Debian: apt-get install openssh-client)");
        }
        var agent = new SshAgent(socket, process, dir);
        try
        {
            var started = Stopwatch.StartNew();
            while (!File.Exists(socket))
            {
                if (process.HasExited)
                    throw new DappException($"ssh-agent exited with code {process.ExitCode}: {(await process.StandardError.ReadToEndAsync(ct)).Trim()}");
                if (started.Elapsed > StartTimeout)
                    throw new DappException($"ssh-agent did not open its socket within {StartTimeout.TotalSeconds:0} s");
                await Task.Delay(20, ct);
            }
            foreach (var key in keys) await AddAsync(socket, key, ct);
            return agent;
        }
        catch
        {
            agent.Dispose();
            throw;
        }
    }

    private static async Task AddAsync(string socket, string key, CancellationToken ct)
    {
        using var add = Process.Start(Start("ssh-add", socket, "-q", key))!;
        add.StandardInput.Close();
        var stderr = add.StandardError.ReadToEndAsync(ct);
        await add.WaitForExitAsync(ct);
        if (add.ExitCode != 0)
            throw new DappException($"--ssh-key {key}: ssh-add could not load it ({(await stderr).Trim()}); a key with a passphrase needs a terminal, or the ssh-agent it is loaded in (SSH_AUTH_SOCK, without --ssh-key)");
    }

    private static ProcessStartInfo Start(string program, string? socket, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        if (socket is not null) start.Environment["SSH_AUTH_SOCK"] = socket;
        return start;
    }

    public void Dispose()
    {
        if (_process is not null)
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }
        if (_dir is not null && Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
