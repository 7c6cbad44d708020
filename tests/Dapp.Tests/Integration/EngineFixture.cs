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

[CollectionDefinition(Name)]
public sealed class EngineCollection : ICollectionFixture<EngineFixture>
{
    public const string Name = "engine";
}
