using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Dapp.Tests.Integration.Registry;

/// <summary>
/// A Docker token server for a registry with <c>auth: token</c>: checks Basic credentials and issues RS256 JWTs
/// (with the signing certificate in <c>x5c</c>) that grant the requested actions on the repositories the user may use.
/// </summary>
public sealed class TokenServer : IAsyncDisposable
{
    public const string Service = "dapp-test-registry";
    public const string Issuer = "dapp-test-issuer";

    private readonly HttpListener _listener = new();
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;
    private readonly Task _loop;
    private readonly Func<string, string, string, bool> _allowed;

    /// <param name="allowed">(user, password, repository) → may the user use the repository.</param>
    public TokenServer(Func<string, string, string, bool> allowed)
    {
        _allowed = allowed;
        var request = new CertificateRequest("CN=dapp test token issuer", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public ConcurrentQueue<string> RequestedScopes { get; } = new();

    public string CertificatePem => _certificate.ExportCertificatePem();

    public string RegistryAuthSection(string certificatePath) => $"""
          token:
            realm: http://127.0.0.1:{Port}/token
            service: {Service}
            issuer: {Issuer}
            rootcertbundle: {certificatePath}
        """;

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            try
            {
                Handle(context);
            }
            catch (Exception)
            {
                context.Response.StatusCode = 500;
            }
            context.Response.Close();
        }
    }

    private void Handle(HttpListenerContext context)
    {
        string user = "", password = "";
        if (context.Request.Headers["Authorization"] is { } auth && auth.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth[6..]));
            (user, password) = (decoded[..decoded.IndexOf(':')], decoded[(decoded.IndexOf(':') + 1)..]);
        }
        if (user.Length > 0 && !_allowed(user, password, ""))
        {
            context.Response.StatusCode = 401;
            return;
        }
        var scopes = (context.Request.QueryString.GetValues("scope") ?? []).SelectMany(s => s.Split(' ')).ToList();
        foreach (var scope in scopes) RequestedScopes.Enqueue(scope);
        var access = scopes.Select(s => s.Split(':')).Where(p => p.Length == 3 && p[0] == "repository" && user.Length > 0 && _allowed(user, password, p[1]))
            .Select(p => new Dictionary<string, object> { ["type"] = "repository", ["name"] = p[1], ["actions"] = p[2].Split(',') })
            .ToList();
        var token = Jwt(user, access);
        var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["token"] = token, ["expires_in"] = 300 });
        context.Response.ContentType = "application/json";
        context.Response.OutputStream.Write(body);
    }

    private string Jwt(string subject, IReadOnlyList<Dictionary<string, object>> access)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new Dictionary<string, object> { ["typ"] = "JWT", ["alg"] = "RS256", ["x5c"] = new[] { Convert.ToBase64String(_certificate.RawData) } };
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer, ["sub"] = subject, ["aud"] = Service, ["exp"] = now + 300, ["nbf"] = now - 10, ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"), ["access"] = access,
        };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
        _key.Dispose();
        _certificate.Dispose();
    }
}
