using Dapp.Config;

namespace Dapp.Stages;

/// <summary>before_install, install, before_setup, setup and build_artifact: the user's shell commands.</summary>
public sealed class UserCommandsStage(StageName name, UserStage userStage, ShellConfig shell) : Stage
{
    public override StageName Name => name;

    public UserStage UserStage => userStage;

    public override bool IsEmpty => shell.CommandsOf(userStage).Count == 0 && shell.CacheVersionOf(userStage) is null;

    public override void AddInputs(SignatureBuilder signature)
    {
        signature.Add("commands", shell.CommandsOf(userStage));
        signature.Add("cacheVersion", shell.CacheVersion);
        signature.Add("stageCacheVersion", shell.CacheVersionOf(userStage));
    }

    /// <summary>A stage with only a cache version runs <c>true</c>.</summary>
    public override StageWork Work => StageWork.None with
    {
        Commands = shell.CommandsOf(userStage) is { Count: > 0 } commands ? commands : ["true"],
    };
}
