namespace Dapp.Config;

/// <summary>The <c>ansible</c> section: ansible tasks and cache versions per user stage.</summary>
public sealed record AnsibleConfig(
    IReadOnlyDictionary<UserStage, IReadOnlyList<AnsibleTask>> Tasks,
    string? CacheVersion,
    IReadOnlyDictionary<UserStage, string> StageCacheVersions) : StageInstructions(CacheVersion, StageCacheVersions)
{
    public IReadOnlyList<AnsibleTask> TasksOf(UserStage stage) => Tasks.TryGetValue(stage, out var t) ? t : [];

    public override bool Has(UserStage stage) => TasksOf(stage).Count > 0;

    public override IReadOnlyList<SourceLocation> Places(UserStage stage) => TasksOf(stage).Select(t => t.Location).ToList();

    public override (string Key, IReadOnlyList<string> Values) SignatureInput(UserStage stage) =>
        ("tasks", TasksOf(stage).Select(t => t.Yaml).ToList());
}

/// <summary>
/// One ansible task: its canonical YAML (a block mapping, keys sorted, scalars as written: see
/// <see cref="AnsibleYaml"/>), which is both what the signature hashes and what the playbook contains.
/// </summary>
public sealed record AnsibleTask(string Yaml, SourceLocation Location);
