namespace Dapp.Engine;

/// <summary>The containers dapp makes in the engine (to build stages, copy imports, make dimg images).</summary>
internal static class DappContainers
{
    /// <summary>Every such container's name starts with this, then the project and a dot.</summary>
    public const string Prefix = "dapp.build.";

    /// <summary>Whether a container of this name is one dapp made (a build container of any project): labels alone do not say,
    /// since a container the user runs from a dapp image inherits the image's labels.</summary>
    public static bool IsDapps(string containerName) =>
        containerName.TrimStart('/') is var name && (name.StartsWith(Prefix, StringComparison.Ordinal) || name.StartsWith(DepsPrefix, StringComparison.Ordinal));

    /// <summary>The names of the containers that keep builders' toolchains (<c>dapp-deps-ansible-HASH</c>).</summary>
    public const string DepsPrefix = "dapp-deps-";

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

/// <summary>
/// The images the engine's containers use, by the names of the user's containers: dapp's own build containers
/// (<see cref="DappContainers.Prefix"/>) are dapp's to remove, every other container is the user's, and an image one of
/// them uses is kept by the local cleanups unless the user says <c>--force</c> (docs/cleanup.md).
/// </summary>
internal sealed class ImageUsers
{
    private readonly Dictionary<string, List<string>> _users;

    private ImageUsers(Dictionary<string, List<string>> users) => _users = users;

    public static async Task<ImageUsers> ReadAsync(Engine.IDockerEngine engine, CancellationToken ct)
    {
        var users = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var container in await engine.ListContainersAsync(new Dictionary<string, IDictionary<string, bool>>(), ct))
        {
            var name = container.Names?.FirstOrDefault()?.TrimStart('/') ?? container.ID[..12];
            if (DappContainers.IsDapps(name)) continue;
            if (!users.TryGetValue(container.ImageID, out var names)) users[container.ImageID] = names = [];
            names.Add(name);
        }
        return new ImageUsers(users);
    }

    /// <summary>Why an image stays: "in use by container NAME"; null when no container of the user's uses it.</summary>
    public string? KeepReason(string imageId) =>
        _users.TryGetValue(imageId, out var names)
            ? $"in use by container {string.Join(", ", names.Order(StringComparer.Ordinal))} (--force removes it anyway)"
            : null;
}
