namespace Dapp.Reporting;

/// <summary>What happened to a stage, printed as dapp printed it: <c>[USING CACHE]</c>, <c>[BUILD]</c>, ….</summary>
public enum StageState
{
    UsingCache,
    NotPresent,
    Build,
    Pull,
    Push,
    Exist,
    NotExist,
    /// <summary>Distributed mode: the stages storage has it and nothing needs it locally.</summary>
    InRepo,
    /// <summary>Distributed mode: another host has claimed the stage and is building it.</summary>
    Waiting,
}

public static class StageStateNames
{
    public static string Display(this StageState state) => state switch
    {
        StageState.UsingCache => "[USING CACHE]",
        StageState.NotPresent => "[NOT PRESENT]",
        StageState.Build => "[BUILD]",
        StageState.Pull => "[PULL]",
        StageState.Push => "[PUSH]",
        StageState.Exist => "[EXIST]",
        StageState.NotExist => "[NOT EXIST]",
        StageState.InRepo => "[IN REPO]",
        StageState.Waiting => "[WAITING]",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
