using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// The config of an image committed from a container: the given config with labels added. Every field is given
/// explicitly because the engine would otherwise take the container's own (whose entrypoint is dapp's script); an
/// empty entrypoint is sent as <c>[]</c>, which the engine keeps as "none".
/// </summary>
internal static class CommitParameters
{
    public static CommitContainerChangesParameters Of(DockerOCIImageConfig config, IReadOnlyDictionary<string, string> labels)
    {
        var allLabels = new Dictionary<string, string>(config.Labels ?? new Dictionary<string, string>());
        foreach (var (key, value) in labels) allLabels[key] = value;
        return new CommitContainerChangesParameters
        {
            Env = (config.Env ?? []).ToList(),
            Labels = allLabels,
            ExposedPorts = new Dictionary<string, EmptyStruct>(config.ExposedPorts ?? new Dictionary<string, EmptyStruct>()),
            Volumes = new Dictionary<string, EmptyStruct>(config.Volumes ?? new Dictionary<string, EmptyStruct>()),
            OnBuild = (config.OnBuild ?? []).ToList(),
            Cmd = config.Cmd?.ToList() ?? [],
            Entrypoint = config.Entrypoint?.ToList() ?? [],
            WorkingDir = config.WorkingDir!,
            User = config.User!,
            StopSignal = config.StopSignal,
            Healthcheck = config.Healthcheck,
        };
    }
}
