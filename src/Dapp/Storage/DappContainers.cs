namespace Dapp.Storage;

/// <summary>The containers dapp makes in the engine (to build stages, copy imports, make dimg images).</summary>
public static class DappContainers
{
    /// <summary>Every such container's name starts with this, then the project and a dot.</summary>
    public const string Prefix = "dapp.build.";

    /// <summary>A new container name of the project, for a purpose ("" for stage builds, "import", "tag").</summary>
    public static string Name(string project, string purpose = "") =>
        purpose.Length == 0 ? $"{Prefix}{project}.{Guid.NewGuid():N}" : $"{Prefix}{project}.{purpose}.{Guid.NewGuid():N}";

    /// <summary>The labels of every container dapp makes: whose project, and which process (to find leftovers of killed ones).</summary>
    public static Dictionary<string, string> Labels(string project) => new()
    {
        [DappLabels.BuildContainer] = project,
        [DappLabels.Owner] = ProcessOwner.Current.ToString(),
    };
}
