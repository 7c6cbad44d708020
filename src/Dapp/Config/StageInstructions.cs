namespace Dapp.Config;

/// <summary>
/// What the user stages (beforeInstall, install, beforeSetup, setup, buildArtifact) do: shell commands or ansible
/// tasks, one builder per image, with the same cache versions.
/// </summary>
public abstract record StageInstructions(string? CacheVersion, IReadOnlyDictionary<UserStage, string> StageCacheVersions)
{
    public string? CacheVersionOf(UserStage stage) => StageCacheVersions.GetValueOrDefault(stage);

    /// <summary>Whether the stage has commands or tasks of its own (a cache version alone does not count).</summary>
    public abstract bool Has(UserStage stage);

    /// <summary>The signature input of the stage's instructions: its key and canonical values (docs/signatures.md).</summary>
    public abstract (string Key, IReadOnlyList<string> Values) SignatureInput(UserStage stage);

    /// <summary>Where each value of <see cref="SignatureInput"/> is written in the dappfile (empty when not known).</summary>
    public abstract IReadOnlyList<SourceLocation> Places(UserStage stage);
}
