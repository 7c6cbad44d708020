using Dapp.Config;

namespace Dapp.Stages;

/// <summary>The docker directives (CMD, ENV, …) applied to the image config.</summary>
internal sealed class DockerInstructionsStage(DockerConfig docker) : Stage
{
    public override StageName Name => StageName.DockerInstructions;

    public override bool IsEmpty => docker.IsEmpty;

    public override void AddInputs(SignatureBuilder signature)
    {
        signature.Add("VOLUME", docker.Volumes);
        signature.Add("EXPOSE", docker.Expose);
        if (docker.Cmd is not null) signature.Add("CMD", docker.Cmd);
        if (docker.Entrypoint is not null) signature.Add("ENTRYPOINT", docker.Entrypoint);
        signature.Add("ENV", docker.Env.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}"));
        signature.Add("LABEL", docker.Labels.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}"));
        signature.Add("WORKDIR", docker.Workdir);
        signature.Add("USER", docker.User);
        signature.Add("ONBUILD", docker.OnBuild);
    }

    public override StageWork Work => StageWork.None with { DockerChanges = docker };
}
