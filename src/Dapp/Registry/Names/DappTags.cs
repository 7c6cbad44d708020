namespace Dapp.Registry.Names;

/// <summary>The tags dapp writes in a stages repository for itself (docs/distributed.md).</summary>
internal static class DappTags
{
    /// <summary>A stage: <c>REPO:dimgstage-&lt;signature&gt;</c>.</summary>
    public const string StagePrefix = "dimgstage-";

    public static string Stage(string signature) => StagePrefix + signature;
}
