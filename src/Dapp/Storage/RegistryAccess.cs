using Dapp.Engine;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Docker.DotNet.Models;
using Dapp.Transfer;

namespace Dapp.Storage;

/// <summary>
/// A command's way to one REPO: the repository and our registry client (lookups, configs, blobs, manifests, listings,
/// deletes), and the credentials the engine needs for the transfers it does itself (X-Registry-Auth).
/// </summary>
public sealed class RegistryAccess : IDisposable
{
    private RegistryAccess(RemoteRepository remote, AuthConfig engineAuth)
    {
        Remote = remote;
        EngineAuth = engineAuth;
    }

    public RemoteRepository Remote { get; }
    public RegistryClient Client => Remote.Client;
    public RepositoryName Repository => Remote.Name;
    public AuthConfig EngineAuth { get; }

    /// <summary>Another repository of the same registry, through the same client (dimg repositories next to the stages').</summary>
    public RemoteRepository Other(RepositoryName repository) => new(Client, repository);

    /// <summary>Checks that the registry answers and accepts the credentials, before any transfer.</summary>
    public static async Task<RegistryAccess> OpenAsync(RepositoryName repository, RegistryClientOptions options, CancellationToken ct)
    {
        var client = new RegistryClient(options);
        try
        {
            await client.PingAsync(repository, ct);
            var credential = await client.CredentialAsync(repository.Registry, ct);
            return new RegistryAccess(new RemoteRepository(client, repository), Dapp.Transfer.EngineAuth.For(repository.Registry, credential));
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Image pulls and pushes between an engine and this registry, retried by dapp's policy.</summary>
    public ImageTransfer Transfer(IDockerEngine engine, Action<string> warn) =>
        new(engine, Client, EngineAuth, ImageTransfer.DefaultPolicy, warn);

    public void Dispose() => Client.Dispose();
}
