using Dapp.Engine;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;

namespace Dapp.Transfer;

/// <summary>The images a <c>from</c> names, pulled when the engine lacks them (<see cref="BaseImages"/>).</summary>
internal interface IBaseImages
{
    Task EnsureAsync(string image, Action pulling, CancellationToken ct);
}

/// <summary>
/// The <c>from</c> images a build starts from: pulled by the engine when it lacks them, with the credentials of
/// their registry from the same sources as REPO's (<see cref="RegistryCredentials"/>; the command line's only for
/// REPO's own registry), transient registry faults retried.
/// </summary>
internal sealed class BaseImages(IDockerEngine engine, RegistryClientOptions options, string? repoRegistry, Action<string> warn) : IBaseImages
{
    /// <summary>Makes sure the engine has the image; <paramref name="pulling"/> is told before a pull.</summary>
    public async Task EnsureAsync(string image, Action pulling, CancellationToken ct)
    {
        if (await engine.ImageExistsAsync(image, ct)) return;
        pulling();
        var reference = ImageReference.Parse(image);
        var registry = reference.Repository.Registry;
        var sources = new RegistryCredentials(registry == repoRegistry ? options : options with { Credential = null });
        var auth = EngineAuth.For(registry, await sources.FindAsync(registry, ct));
        await ImageTransfer.RetryEngineAsync(ImageTransfer.EngineOnlyPolicy, warn, () => engine.PullAsync(reference, auth, ct), ct);
    }
}
