using Dapp.Engine;
using Dapp.Registry.Names;
using Dapp.Registry.Remote;
using Docker.DotNet.Models;
using Dapp.Transfer;

namespace Dapp.Storage;

/// <summary>
/// A command's way to one REPO: our registry client (lookups, configs, blobs, manifests, listings, deletes) and the
/// credentials the engine needs for the transfers it does itself (X-Registry-Auth).
/// </summary>
public sealed class RegistryAccess : IDisposable
{
    private RegistryAccess(RegistryClient client, RepositoryName repository, AuthConfig engineAuth)
    {
        Client = client;
        Repository = repository;
        EngineAuth = engineAuth;
    }

    public RegistryClient Client { get; }
    public RepositoryName Repository { get; }
    public AuthConfig EngineAuth { get; }

    /// <summary>Validates REPO and checks that the registry answers and accepts the credentials, before any transfer.</summary>
    public static async Task<RegistryAccess> OpenAsync(string repo, RegistryClientOptions options, CancellationToken ct)
    {
        DockerNames.EnsureValidRepo(repo);
        var repository = RepositoryName.Parse(repo);
        var client = new RegistryClient(options);
        try
        {
            await client.PingAsync(repository, ct);
            var credential = await client.CredentialAsync(repository.Registry, ct);
            return new RegistryAccess(client, repository, Dapp.Transfer.EngineAuth.For(repository.Registry, credential));
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Image pulls and pushes between an engine and this registry, retried by dapp's policy.</summary>
    public ImageTransfer Transfer(DockerEngine engine, Action<string> warn) =>
        new(engine, Client, EngineAuth, ImageTransfer.DefaultPolicy, warn);

    public void Dispose() => Client.Dispose();
}
