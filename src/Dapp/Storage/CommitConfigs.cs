using Dapp.Config;
using Docker.DotNet.Models;

namespace Dapp.Storage;

/// <summary>
/// The config of an image committed from a build container: the previous image's, with docker changes and labels.
/// Every field is given explicitly because the engine would otherwise take the build container's own (whose
/// entrypoint is our script); an empty entrypoint is sent as <c>[]</c>, which the engine keeps as "none".
/// </summary>
public static class CommitConfigs
{
    public static CommitContainerChangesParameters From(DockerOCIImageConfig previous, DockerConfig? changes, IReadOnlyDictionary<string, string> labels)
    {
        var env = (previous.Env ?? []).ToList();
        var allLabels = new Dictionary<string, string>(previous.Labels ?? new Dictionary<string, string>());
        var ports = new Dictionary<string, EmptyStruct>(previous.ExposedPorts ?? new Dictionary<string, EmptyStruct>());
        var volumes = new Dictionary<string, EmptyStruct>(previous.Volumes ?? new Dictionary<string, EmptyStruct>());
        var onBuild = (previous.OnBuild ?? []).ToList();
        IList<string> cmd = previous.Cmd?.ToList() ?? [];
        IList<string> entrypoint = previous.Entrypoint?.ToList() ?? [];
        var workdir = previous.WorkingDir;
        var user = previous.User;

        if (changes is not null)
        {
            foreach (var (key, value) in changes.Env)
            {
                env.RemoveAll(e => e.StartsWith(key + "=", StringComparison.Ordinal));
                env.Add($"{key}={value}");
            }
            foreach (var (key, value) in changes.Labels) allLabels[key] = value;
            foreach (var port in changes.Expose) ports[port.Contains('/') ? port : port + "/tcp"] = default;
            foreach (var volume in changes.Volumes) volumes[volume] = default;
            onBuild.AddRange(changes.OnBuild);
            if (changes.Entrypoint is not null)
            {
                entrypoint = changes.Entrypoint.ToList();
                // As in a Dockerfile, a new ENTRYPOINT drops the inherited CMD.
                if (changes.Cmd is null) cmd = [];
            }
            if (changes.Cmd is not null) cmd = changes.Cmd.ToList();
            workdir = changes.Workdir ?? workdir;
            user = changes.User ?? user;
        }
        foreach (var (key, value) in labels) allLabels[key] = value;

        return new CommitContainerChangesParameters
        {
            Env = env,
            Labels = allLabels,
            ExposedPorts = ports,
            Volumes = volumes,
            OnBuild = onBuild,
            Cmd = cmd,
            Entrypoint = entrypoint,
            WorkingDir = workdir!,
            User = user!,
            StopSignal = previous.StopSignal,
            Healthcheck = previous.Healthcheck,
        };
    }
}
