namespace Dapp.Reporting;

/// <summary>
/// Why a stage is built: its kind (docs/commands.md, <c>dapp dimg plan</c>) and what changed, each detail a line a person
/// reads (<c>dappfile.yml:14: "npm ci" -> "npm ci --omit=dev"</c>).
/// </summary>
public sealed record RebuildReason(string Kind, IReadOnlyList<string> Details)
{
    public const string FirstBuild = "first-build";
    public const string BaseImage = "base-image";
    public const string Instructions = "instructions";
    public const string Git = "git";
    public const string CacheVersion = "cache-version";
    public const string Imports = "imports";
    public const string Mounts = "mounts";
    public const string Parent = "parent";
    /// <summary>The earlier build has this very stage, but neither the engine nor REPO has its image any more.</summary>
    public const string Missing = "missing";
    /// <summary>The earlier build's stage records no inputs (an older dapp built it): what changed cannot be told.</summary>
    public const string Unknown = "unknown";

    /// <summary>The order in which kinds apply: a stage gets the first whose inputs changed.</summary>
    public static readonly IReadOnlyList<string> Precedence = [BaseImage, Instructions, Git, CacheVersion, Imports, Mounts];

    /// <summary><c>instructions: dappfile.yml:14: "a" -> "b"; …</c></summary>
    public override string ToString() => Details.Count == 0 ? Kind : $"{Kind}: {string.Join("; ", Details)}";
}
