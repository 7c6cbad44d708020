using System.Security.Cryptography;
using System.Text;
using Dapp.Config;

namespace Dapp.Build;

/// <summary>Turns an image's mounts into engine bind specs: tmp_dir fresh per build run, build_dir kept per project.</summary>
public sealed class MountBinds(string buildDir, string tmpDir)
{
    public IList<string> For(ImageConfig image)
    {
        var binds = new List<string>();
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
