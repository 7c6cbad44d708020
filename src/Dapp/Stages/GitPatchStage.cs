using Dapp.Config;
using Dapp.Git;

namespace Dapp.Stages;

/// <summary>
/// g_a_pre_install_patch, g_a_post_install_patch, g_a_pre_setup_patch, g_a_artifact_patch: bring the git files up to
/// date before a user stage. They depend on that stage's commands or tasks and on the files its stageDependencies match, so a
/// change of those files re-runs the stage; they are empty when the stage has neither.
/// </summary>
internal sealed class GitPatchStage(StageName name, UserStage relatedStage, StageInstructions instructions, IReadOnlyList<GitPath> paths) : Stage
{
    public override StageName Name => name;

    public override bool IsEmpty =>
        paths.Count == 0 || (!instructions.Has(relatedStage) && paths.All(p => !p.Config.StageDependencies.ContainsKey(relatedStage)));

    public override void AddInputs(SignatureBuilder signature)
    {
        var (key, values) = instructions.SignatureInput(relatedStage);
        signature.Add(key, values, instructions.Places(relatedStage));
        foreach (var path in paths)
            signature.Add("stageDependencies", [path.Id, path.DependenciesChecksum(Globs(path))], [path.Config.Location]);
    }

    /// <summary>The globs of a git path's stageDependencies for this stage's user stage.</summary>
    public IReadOnlyList<string> Globs(GitPath path) => path.Config.StageDependencies.GetValueOrDefault(relatedStage) ?? [];

    public override StageWork Work => StageWork.None with { Git = paths.Select(p => new GitWork(p, IsArchive: false)).ToList() };

    public static UserStage RelatedStage(StageName name) => name switch
    {
        StageName.GAPreInstallPatch => UserStage.Install,
        StageName.GAPostInstallPatch => UserStage.BeforeSetup,
        StageName.GAPreSetupPatch => UserStage.Setup,
        StageName.GAArtifactPatch => UserStage.BuildArtifact,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}
