using System.Diagnostics;

namespace Dapp.Git;

/// <summary>
/// Fetches remote repositories with the system's git (LibGit2Sharp's native library has no SSH, and no credential
/// helpers): over https with the user's credential helpers, <c>~/.git-credentials</c> or a token in the URL; over SSH
/// (<c>ssh://</c>, <c>git@host:path</c>) with the <c>--ssh-key</c> keys or the running ssh-agent. It never prompts; its
/// messages are shown without the credentials of any URL. LibGit2Sharp still reads the objects.
/// </summary>
public sealed class SystemGit(IReadOnlyList<string> sshKeys, string dappHome, Func<string, string?> environment)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(30);

    /// <summary>Makes <paramref name="dir"/> a bare repository with the remote's branches (as refs/remotes/origin/*), tags and default branch (HEAD).</summary>
    public void Fetch(string url, string dir)
    {
        if (!Directory.Exists(Path.Combine(dir, "objects")))
        {
            Directory.CreateDirectory(dir);
            Run(null, "init", "--quiet", "--bare", dir);
        }
        // The remote's default branch, for git paths that name none.
        var head = Run(dir, "ls-remote", "--symref", url, "HEAD").Split('\n')
            .FirstOrDefault(l => l.StartsWith("ref: refs/heads/", StringComparison.Ordinal));
        if (head is not null)
            Run(dir, "symbolic-ref", "HEAD", head["ref: ".Length..head.IndexOf('\t')]);
        Run(dir, "fetch", "--quiet", "--prune", "--no-write-fetch-head", url, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*");
    }

    private string Run(string? dir, params string[] args)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        if (dir is not null) start.ArgumentList.Add("--git-dir=" + dir);
        var home = environment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (File.Exists(Path.Combine(home, ".git-credentials")))
        {
            // The store helper reads ~/.git-credentials; the user's own helpers (from their config) are asked too.
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("credential.helper=store");
        }
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ASKPASS"] = "true";
        start.Environment["SSH_ASKPASS"] = "true";
        start.Environment["LC_ALL"] = "C";
        if (sshKeys.Count > 0 || environment("GIT_SSH_COMMAND") is null)
            start.Environment["GIT_SSH_COMMAND"] = SshCommand();
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new DappException($"remote git paths need git on PATH ({e.Message}): install it (Debian: apt-get install git)");
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new DappException($"git {args[0]} did not finish in {Timeout.TotalMinutes:0} minutes");
            }
            if (process.ExitCode != 0)
            {
                var message = UrlCredentials.Redact(stderr.Result.Trim()).Replace('\n', ' ');
                throw new DappException(message.Length > 0 ? message : $"git {args[0]} failed with exit code {process.ExitCode}");
            }
            return stdout.Result;
        }
    }

    /// <summary>
    /// ssh that never asks: the <c>--ssh-key</c> keys only (else the agent and the user's keys); a host seen for the first
    /// time is remembered in dapp's own known_hosts (the user's is consulted too), a changed host key is refused.
    /// </summary>
    private string SshCommand()
    {
        var knownHosts = Path.Combine(dappHome, "ssh", "known_hosts");
        Directory.CreateDirectory(Path.GetDirectoryName(knownHosts)!);
        var parts = new List<string>
        {
            "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
            "-o", Quote($"UserKnownHostsFile={knownHosts} ~/.ssh/known_hosts"),
        };
        if (sshKeys.Count > 0) parts.AddRange(["-o", "IdentitiesOnly=yes"]);
        foreach (var key in sshKeys) parts.AddRange(["-i", Quote(key)]);
        return string.Join(' ', parts);
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''") + "'";
}
