namespace Dapp.Stages;

/// <summary>Every stage kind, by dapp's names (see <see cref="StageNames.DappName"/>).</summary>
public enum StageName
{
    From,
    BeforeInstall,
    BeforeInstallArtifact,
    GAArchive,
    GAPreInstallPatch,
    Install,
    GAPostInstallPatch,
    AfterInstallArtifact,
    BeforeSetup,
    BeforeSetupArtifact,
    GAPreSetupPatch,
    Setup,
    GAPostSetupPatch,
    AfterSetupArtifact,
    GALatestPatch,
    DockerInstructions,
    GAArtifactPatch,
    BuildArtifact,
}

public static class StageNames
{
    private static readonly Dictionary<StageName, string> Names = new()
    {
        [StageName.From] = "from",
        [StageName.BeforeInstall] = "before_install",
        [StageName.BeforeInstallArtifact] = "before_install_artifact",
        [StageName.GAArchive] = "g_a_archive",
        [StageName.GAPreInstallPatch] = "g_a_pre_install_patch",
        [StageName.Install] = "install",
        [StageName.GAPostInstallPatch] = "g_a_post_install_patch",
        [StageName.AfterInstallArtifact] = "after_install_artifact",
        [StageName.BeforeSetup] = "before_setup",
        [StageName.BeforeSetupArtifact] = "before_setup_artifact",
        [StageName.GAPreSetupPatch] = "g_a_pre_setup_patch",
        [StageName.Setup] = "setup",
        [StageName.GAPostSetupPatch] = "g_a_post_setup_patch",
        [StageName.AfterSetupArtifact] = "after_setup_artifact",
        [StageName.GALatestPatch] = "g_a_latest_patch",
        [StageName.DockerInstructions] = "docker_instructions",
        [StageName.GAArtifactPatch] = "g_a_artifact_patch",
        [StageName.BuildArtifact] = "build_artifact",
    };

    /// <summary>The order of a dimg's conveyor.</summary>
    public static readonly IReadOnlyList<StageName> DimgOrder =
    [
        StageName.From, StageName.BeforeInstall, StageName.BeforeInstallArtifact, StageName.GAArchive,
        StageName.GAPreInstallPatch, StageName.Install, StageName.GAPostInstallPatch, StageName.AfterInstallArtifact,
        StageName.BeforeSetup, StageName.BeforeSetupArtifact, StageName.GAPreSetupPatch, StageName.Setup,
        StageName.GAPostSetupPatch, StageName.AfterSetupArtifact, StageName.GALatestPatch, StageName.DockerInstructions,
    ];

    /// <summary>The order of an artifact's conveyor.</summary>
    public static readonly IReadOnlyList<StageName> ArtifactOrder =
    [
        StageName.From, StageName.BeforeInstall, StageName.BeforeInstallArtifact, StageName.GAArchive,
        StageName.GAPreInstallPatch, StageName.Install, StageName.GAPostInstallPatch, StageName.AfterInstallArtifact,
        StageName.BeforeSetup, StageName.BeforeSetupArtifact, StageName.GAPreSetupPatch, StageName.Setup,
        StageName.GAArtifactPatch, StageName.BuildArtifact,
    ];

    public static string DappName(this StageName stage) => Names[stage];

    public static StageName? Parse(string dappName) =>
        Names.Where(kv => kv.Value == dappName).Select(kv => (StageName?)kv.Key).FirstOrDefault();
}
