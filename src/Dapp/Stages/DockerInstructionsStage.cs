using Dapp.Config;

namespace Dapp.Stages;

/// <summary>The docker directives (CMD, ENV, …) applied to the image config.</summary>
internal sealed class DockerInstructionsStage(DockerConfig docker) : Stage
{
    public override StageName Name => StageName.DockerInstructions;

    public override bool IsEmpty => docker.IsEmpty;

    public override void AddInputs(SignatureBuilder signature)
    {
        signature.Add("VOLUME", docker.Volumes, At("VOLUME"));
        signature.Add("EXPOSE", docker.Expose, At("EXPOSE"));
        if (docker.Cmd is not null) signature.Add("CMD", docker.Cmd, At("CMD"));
        if (docker.Entrypoint is not null) signature.Add("ENTRYPOINT", docker.Entrypoint, At("ENTRYPOINT"));
        signature.Add("ENV", docker.Env.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}"), At("ENV"));
        signature.Add("LABEL", docker.Labels.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}"), At("LABEL"));
        signature.Add("WORKDIR", docker.Workdir, docker.Locations.GetValueOrDefault("WORKDIR"));
        signature.Add("USER", docker.User, docker.Locations.GetValueOrDefault("USER"));
        signature.Add("ONBUILD", docker.OnBuild, At("ONBUILD"));
    }

    private IEnumerable<SourceLocation>? At(string key) => docker.Locations.TryGetValue(key, out var at) ? [at] : null;

    public override StageWork Work => StageWork.None with { DockerChanges = docker };
}
