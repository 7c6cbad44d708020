namespace Dapp.Config;

/// <summary>The stages whose commands the user writes in <c>shell</c>.</summary>
public enum UserStage
{
    BeforeInstall,
    Install,
    BeforeSetup,
    Setup,
    BuildArtifact,
}

internal static class UserStageNames
{
    /// <summary>The dappfile key (<c>beforeInstall</c>, …).</summary>
    public static string Key(this UserStage stage) => stage switch
    {
        UserStage.BeforeInstall => "beforeInstall",
        UserStage.Install => "install",
        UserStage.BeforeSetup => "beforeSetup",
        UserStage.Setup => "setup",
        UserStage.BuildArtifact => "buildArtifact",
        _ => throw new ArgumentOutOfRangeException(nameof(stage)),
    };

    public static UserStage? FromKey(string key) =>
        Enum.GetValues<UserStage>().Select(s => (UserStage?)s).FirstOrDefault(s => s!.Value.Key() == key);
}
