using Dapp.Engine;

namespace Dapp.Tests.Integration;

/// <summary>The real engine started by scripts/services; the tests fail, not skip, when it is not there.</summary>
public sealed class EngineFixture : IAsyncLifetime
{
    public const string BaseImage = "dapp-examples/busybox:1.35";

    public IDockerEngine Engine { get; } = DockerEngine.Connect();

    public async Task InitializeAsync()
    {
        try
        {
            await Engine.PingAsync(default);
        }
        catch (DappException e)
        {
            throw new InvalidOperationException($"No Docker engine: run scripts/services up first ({e.Message})", e);
        }
        if (!await Engine.ImageExistsAsync(BaseImage, default))
            throw new InvalidOperationException($"The base image {BaseImage} is missing: run scripts/services up first");
    }

    public Task DisposeAsync()
    {
        Engine.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// The tests that build on the first engine: they run one after another, beside <see cref="TransferCollection"/> and the
/// classes that need no shared engine.
/// </summary>
/// <remarks>
/// Every test uses names of its own, so none needs the engine alone; the two collections bound how many tests load the
/// one engine (and the machine's two cores) at once, which keeps the tests that bound a wait (lock timeouts, Ctrl-C,
/// stalls) from measuring the machine instead of dapp.
/// </remarks>
[CollectionDefinition(Name)]
public sealed class EngineCollection : ICollectionFixture<EngineFixture>
{
    public const string Name = "engine";
}

/// <summary>The tests on the first engine whose work is mostly transfers: pushes, pulls, distributed builds and claims.</summary>
[CollectionDefinition(Name)]
public sealed class TransferCollection : ICollectionFixture<EngineFixture>
{
    public const string Name = "engine, transfers";
}
