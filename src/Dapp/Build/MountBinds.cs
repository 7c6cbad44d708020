using System.Security.Cryptography;
using System.Text;
using Dapp.Config;

namespace Dapp.Build;

/// <summary>
/// Turns an image's mounts into engine bind specs: tmp_dir fresh per build run, build_dir kept per project; and, for
/// stages that run commands, the ssh-agent's socket when there is one.
/// </summary>
internal sealed class MountBinds(string buildDir, string tmpDir, SshAgent? sshAgent = null)
{
    /// <summary>
    /// The command that points build commands at the ssh-agent (none without one). In the script, not in the
    /// container's environment: the engine commits a container's environment into an image whose own is empty.
    /// </summary>
    public IReadOnlyList<string> Exports(bool runsCommands) =>
        runsCommands && sshAgent is not null ? [$"export SSH_AUTH_SOCK={SshAgent.ContainerSocket}"] : [];

    public IList<string> For(ImageConfig image, bool runsCommands = false)
    {
        var binds = new List<string>();
        if (runsCommands && sshAgent is not null) binds.Add($"{sshAgent.Socket}:{SshAgent.ContainerSocket}");
        foreach (var mount in image.Mounts)
        {
            var host = mount.Source switch
            {
                MountSource.HostPath => mount.FromPath!,
                MountSource.BuildDir => Path.Combine(buildDir, "mount", Key(mount.To)),
                _ => Path.Combine(tmpDir, "mount", Key(mount.To)),
            };
            if (mount.Source != MountSource.HostPath) Directory.CreateDirectory(host);
            binds.Add($"{host}:{mount.To}");
        }
        return binds;
    }

    private static string Key(string to) =>
        to.Trim('/').Replace('/', '-') + "-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(to)))[..8];
}
