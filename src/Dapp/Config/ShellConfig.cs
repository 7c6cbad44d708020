namespace Dapp.Config;

/// <summary>The <c>shell</c> section: commands and cache versions per user stage.</summary>
public sealed record ShellConfig(
    IReadOnlyDictionary<UserStage, IReadOnlyList<string>> Commands,
    string? CacheVersion,
    IReadOnlyDictionary<UserStage, string> StageCacheVersions) : StageInstructions(CacheVersion, StageCacheVersions)
{
    public static ShellConfig Empty { get; } = new(new Dictionary<UserStage, IReadOnlyList<string>>(), null, new Dictionary<UserStage, string>());

    public IReadOnlyList<string> CommandsOf(UserStage stage) => Commands.TryGetValue(stage, out var c) ? c : [];

    /// <summary>Where each command of a stage is written (one per command); none for a config made in code.</summary>
    public IReadOnlyDictionary<UserStage, IReadOnlyList<SourceLocation>> CommandLocations { get; init; } = new Dictionary<UserStage, IReadOnlyList<SourceLocation>>();

    public override IReadOnlyList<SourceLocation> Places(UserStage stage) => CommandLocations.TryGetValue(stage, out var l) ? l : [];

    public override bool Has(UserStage stage) => CommandsOf(stage).Count > 0;

    public override (string Key, IReadOnlyList<string> Values) SignatureInput(UserStage stage) => ("commands", CommandsOf(stage));
}
