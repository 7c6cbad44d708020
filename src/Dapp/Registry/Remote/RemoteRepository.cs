using Dapp.Registry.Names;

namespace Dapp.Registry.Remote;

/// <summary>One repository and the client that reaches it: what the stages storages, claims and inventories work on.</summary>
public sealed record RemoteRepository(RegistryClient Client, RepositoryName Name)
{
    public override string ToString() => Name.ToString();
}
