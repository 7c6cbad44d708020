namespace Dapp.Engine;

/// <summary>The labels dapp puts on the images and containers it makes.</summary>
internal static class DappLabels
{
    public const string Project = "dapp";
    public const string Version = "dapp-version";
    public const string CacheVersion = "dapp-cache-version";
    public const string Dimg = "dapp-dimg";
    public const string TagScheme = "dapp-tag-scheme";
    public const string Stage = "dapp-stage";
    public const string StageSignature = "dapp-stage-signature";

    /// <summary>The signature of the stage a stage was built on; empty for a from stage on a base image (older dapps wrote none).</summary>
    public const string ParentSignature = "dapp-stage-parent";
    /// <summary>On stage images: the dimg or artifact whose build made it (<c>dimg/NAME</c>, <c>artifact/NAME</c>), to find a dimg's earlier build.</summary>
    public const string StageOf = "dapp-stage-of";
    public const string BuildContainer = "dapp-build-container";

    /// <summary>On the toolchains dapp makes for builds (the ansible builder's image and volume container): which one.</summary>
    public const string Deps = "dapp-deps";

    /// <summary>On build containers: the dapp process that made it (<see cref="ProcessOwner"/>).</summary>
    public const string Owner = "dapp-owner";

    public static string Artifact(string name) => $"dapp-artifact-{name}";
}
