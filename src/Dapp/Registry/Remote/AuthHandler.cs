using System.Net;
using Dapp.Registry.Model;
using Dapp.Registry.Remote.Handlers;

namespace Dapp.Registry.Remote;

/// <summary>
/// Authenticates requests: sends what the registry asked for before (Basic, or a Bearer token for the request's
/// scopes), and on a 401 learns the registry's challenge and resends once with fresh credentials.
/// </summary>
internal sealed class AuthHandler(RegistryAuthenticator auth, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var registry = request.Options.TryGetValue(RegistryRequest.Registry, out var name) ? name : request.RequestUri!.Authority;
        var scopes = request.Options.TryGetValue(RegistryRequest.Scopes, out var given) ? given : [];
        request.Headers.Authorization = await auth.HeaderAsync(registry, scopes, renew: false, ct);
        var response = await base.SendAsync(request, ct);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;

        var challenge = AuthChallenge.Parse(response.Headers.WwwAuthenticate.ToString());
        response.Dispose();
        if (challenge is null)
            throw RegistryException.Unauthorized($"the registry {registry} refused the request without saying how to authenticate");
        auth.Learn(registry, challenge);
        request.Headers.Authorization = await auth.HeaderAsync(registry, scopes, renew: true, ct)
            ?? throw RegistryException.Unauthorized($"{registry} requires authentication and no credentials were found (--registry-username/--registry-password or the Docker config)");
        response = await base.SendAsync(request, ct);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
        response.Dispose();
        var user = (await auth.CredentialAsync(registry, ct))?.Username;
        throw RegistryException.Unauthorized($"{registry} refused the credentials{(user is null ? "" : $" of user '{user}'")}");
    }
}
