using Dapp.Config;
using Dapp.Engine;
using Docker.DotNet.Models;

namespace Dapp.Build;

/// <summary>
/// The config of a stage image: the previous image's with the stage's docker instructions applied (as a Dockerfile
/// applies them) and its labels (<see cref="CommitParameters"/>).
/// </summary>
internal static class CommitConfigs
{
    public static CommitContainerChangesParameters From(DockerOCIImageConfig previous, DockerConfig? changes, IReadOnlyDictionary<string, string> labels)
    {
        if (changes is null) return CommitParameters.Of(previous, labels);
        var env = (previous.Env ?? []).ToList();
        var allLabels = new Dictionary<string, string>(previous.Labels ?? new Dictionary<string, string>());
        var ports = new Dictionary<string, EmptyStruct>(previous.ExposedPorts ?? new Dictionary<string, EmptyStruct>());
        var volumes = new Dictionary<string, EmptyStruct>(previous.Volumes ?? new Dictionary<string, EmptyStruct>());
        var onBuild = (previous.OnBuild ?? []).ToList();
        IList<string> cmd = previous.Cmd?.ToList() ?? [];
        IList<string> entrypoint = previous.Entrypoint?.ToList() ?? [];
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
        return CommitParameters.Of(new DockerOCIImageConfig
        {
            Env = env,
            Labels = allLabels,
            ExposedPorts = ports,
            Volumes = volumes,
            OnBuild = onBuild,
            Cmd = cmd,
            Entrypoint = entrypoint,
            WorkingDir = changes.Workdir ?? previous.WorkingDir,
            User = changes.User ?? previous.User,
            StopSignal = previous.StopSignal,
            Healthcheck = previous.Healthcheck,
        }, labels);
    }
}
