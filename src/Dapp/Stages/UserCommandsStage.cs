using Dapp.Config;

namespace Dapp.Stages;

/// <summary>before_install, install, before_setup, setup and build_artifact: the user's shell commands or ansible tasks.</summary>
internal sealed class UserCommandsStage(StageName name, UserStage userStage, StageInstructions instructions) : Stage
{
    public override StageName Name => name;

    public UserStage UserStage => userStage;

    public override bool IsEmpty => !instructions.Has(userStage) && instructions.CacheVersionOf(userStage) is null;

    public override void AddInputs(SignatureBuilder signature)
    {
        var (key, values) = instructions.SignatureInput(userStage);
        signature.Add(key, values, instructions.Places(userStage));
        signature.Add("cacheVersion", instructions.CacheVersion);
        signature.Add("stageCacheVersion", instructions.CacheVersionOf(userStage));
    }

    /// <summary>A stage with only a cache version runs <c>true</c>.</summary>
    public override StageWork Work => instructions switch
    {
        AnsibleConfig ansible when ansible.Has(userStage) => StageWork.None with { AnsibleTasks = ansible.TasksOf(userStage) },
        ShellConfig shell when shell.Has(userStage) => StageWork.None with { Commands = shell.CommandsOf(userStage) },
        _ => StageWork.None with { Commands = ["true"] },
    };
}
