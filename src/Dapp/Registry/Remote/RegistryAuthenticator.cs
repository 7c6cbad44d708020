using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapp.Registry.Model;
using Dapp.Registry.Names;

namespace Dapp.Registry.Remote;

/// <summary>
/// Answers registries' challenges: Basic with the credentials, or Bearer tokens fetched from the challenge's realm
/// for the repository scopes an operation needs. Challenges are learned per registry on the first 401; tokens are
/// cached per registry and scope until they expire, and renewed when a registry answers 401 again.
/// </summary>
internal sealed class RegistryAuthenticator(HttpMessageInvoker http, RegistryClientOptions options, Func<string, bool> isPlainHttp)
{
    private readonly RegistryCredentials _sources = new(options);
    private readonly ConcurrentDictionary<string, AuthChallenge> _challenges = new();
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> _tokens = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<RegistryCredential?>>> _credentials = new();

    public void Learn(string registry, AuthChallenge challenge) => _challenges[registry] = challenge;

    /// <summary>The Authorization header for a request; null when the registry asked for nothing (yet) or nothing can be sent.</summary>
    public async Task<AuthenticationHeaderValue?> HeaderAsync(string registry, IReadOnlyList<string> scopes, bool renew, CancellationToken ct)
    {
        if (!_challenges.TryGetValue(registry, out var challenge)) return null;
        if (challenge.IsBasic)
        {
            var credential = await CredentialAsync(registry, ct);
            return credential is null ? null
                : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Secret}")));
        }
        if (!challenge.IsBearer) return null;
        var key = registry + " " + string.Join(" ", scopes);
        if (!renew && _tokens.TryGetValue(key, out var cached) && cached.Expires > DateTimeOffset.UtcNow)
            return new AuthenticationHeaderValue("Bearer", cached.Token);
        var token = await FetchTokenAsync(registry, challenge, scopes, ct);
        _tokens[key] = token;
        return new AuthenticationHeaderValue("Bearer", token.Token);
    }

    public Task<RegistryCredential?> CredentialAsync(string registry, CancellationToken ct) =>
        _credentials.GetOrAdd(registry, r => new Lazy<Task<RegistryCredential?>>(() =>
            _sources.FindAsync(r, ct))).Value;

    public static string Scope(RepositoryName repository, params string[] actions) => $"repository:{repository.Repository}:{string.Join(",", actions)}";

    private async Task<(string Token, DateTimeOffset Expires)> FetchTokenAsync(string registry, AuthChallenge challenge, IReadOnlyList<string> scopes, CancellationToken ct)
    {
        var realmUri = await TokenRealm.ValidateAsync(registry, challenge.Realm, isPlainHttp(registry), ct);
        var credential = await CredentialAsync(registry, ct);
        using var request = new HttpRequestMessage();
        if (credential is { IsIdentityToken: true })
        {
            request.Method = HttpMethod.Post;
            request.RequestUri = realmUri;
            var form = new List<KeyValuePair<string, string>>
            {
                new("grant_type", "refresh_token"), new("refresh_token", credential.Secret), new("client_id", "dapp"),
            };
            if (challenge.Service is { } service) form.Add(new("service", service));
            form.AddRange(scopes.Select(s => new KeyValuePair<string, string>("scope", s)));
            request.Content = new FormUrlEncodedContent(form);
        }
        else
        {
            var query = new List<string>();
            if (challenge.Service is { } service) query.Add("service=" + Uri.EscapeDataString(service));
            query.AddRange(scopes.Select(s => "scope=" + Uri.EscapeDataString(s)));
            if (credential is not null) query.Add("account=" + Uri.EscapeDataString(credential.Username));
            var separator = string.IsNullOrEmpty(realmUri.Query) ? "?" : "&";
            request.Method = HttpMethod.Get;
            request.RequestUri = new Uri(realmUri + (query.Count > 0 ? separator + string.Join("&", query) : ""));
            if (credential is not null)
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Secret}")));
        }

        var server = $"the token server of {registry} at {realmUri.GetLeftPart(UriPartial.Path)}";
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException)
        {
            throw RegistryException.TokenServerUnreachable(server, e);
        }
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                throw RegistryException.Unauthorized($"the token server of {registry} refused the credentials{(credential is null ? " (none were given)" : $" of user '{credential.Username}'")}",
                    response.StatusCode);
            if (!response.IsSuccessStatusCode)
                throw new RegistryException($"{char.ToUpperInvariant(server[0])}{server[1..]} answered {(int)response.StatusCode} {response.ReasonPhrase}", RegistryErrorCode.Unknown, response.StatusCode);
            var body = await RegistryErrorReader.ReadLimitedAsync(response.Content, 64 << 10, ct);
            TokenResponse? token;
            try
            {
                token = JsonSerializer.Deserialize(body, RegistryJson.Default.TokenResponse);
            }
            catch (JsonException)
            {
                throw new RegistryException($"{char.ToUpperInvariant(server[0])}{server[1..]} answered with something that is not a token (not JSON: {response.Content.Headers.ContentType?.MediaType ?? "no content type"})",
                    RegistryErrorCode.Unauthorized, response.StatusCode);
            }
            var value = token?.Token ?? token?.AccessToken
                ?? throw new RegistryException($"The token server of {registry} sent no token", RegistryErrorCode.Unauthorized, response.StatusCode);
            var lifetime = TimeSpan.FromSeconds(Math.Max(token!.ExpiresIn ?? 60, 20) - 10);
            return (value, DateTimeOffset.UtcNow + lifetime);
        }
    }
}
