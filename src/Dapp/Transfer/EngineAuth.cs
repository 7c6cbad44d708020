using Dapp.Registry.Remote;
using Docker.DotNet.Models;

namespace Dapp.Transfer;

/// <summary>The credentials the engine is given for its own pulls and pushes (X-Registry-Auth).</summary>
internal static class EngineAuth
{
    public static AuthConfig For(string registry, RegistryCredential? credential)
    {
        var auth = new AuthConfig { ServerAddress = registry };
        if (credential is { IsIdentityToken: true }) auth.IdentityToken = credential.Secret;
        else if (credential is not null) (auth.Username, auth.Password) = (credential.Username, credential.Secret);
        return auth;
    }
}
