using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Dapp.Registry.Names;
using Dapp.Registry.Remote.Handlers;

namespace Dapp.Registry.Remote;

/// <summary>
/// HTTP to registries as a chain of small handlers, outermost first: retry (the only retry layer, with the
/// operation's budget and Retry-After), a limit on parallel requests per registry, authentication, logging, and a
/// timeout on each answer's headers. Token servers are reached through their own chain without authentication.
/// https except for loopback and insecure registries.
/// </summary>
internal sealed class RegistryTransport : IDisposable
{
    private readonly RegistryClientOptions _options;
    private readonly HttpClient _tokenHttp;

    public RegistryTransport(RegistryClientOptions options)
    {
        _options = options;
        Policy = new RetryPolicy
        {
            MaxRetries = Math.Max(0, options.MaxRetries),
            BaseDelay = options.RetryBaseDelay,
            MaxDelay = options.RetryMaxDelay,
            Time = options.Time,
        };
        _tokenHttp = Client(Chain(options.Network?.Invoke() ?? Sockets(), authenticate: false));
        Auth = new RegistryAuthenticator(_tokenHttp, options, IsPlainHttp);
        Http = Client(Chain(options.Network?.Invoke() ?? Sockets(), authenticate: true));
    }

    public RegistryAuthenticator Auth { get; }

    public HttpClient Http { get; }

    public RegistryClientOptions Options => _options;

    public RetryPolicy Policy { get; }

    public RequestCounter Requests { get; } = new();

    public void Dispose()
    {
        Http.Dispose();
        _tokenHttp.Dispose();
    }

    private HttpMessageHandler Chain(HttpMessageHandler sockets, bool authenticate)
    {
        HttpMessageHandler handler = new TimeoutHandler(_options.RequestTimeout, new CountingHandler(Requests, sockets));
        if (_options.Log is { } log) handler = new LoggingHandler(log, handler);
        if (authenticate)
        {
            handler = new AuthHandler(Auth, handler);
            handler = new LimitHandler(_options.MaxConcurrentRequests, handler);
        }
        return new RetryHandler(Policy, handler, _options.Warn);
    }

    private HttpClient Client(HttpMessageHandler chain)
    {
        var client = new HttpClient(chain) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd($"dapp-dotnet/{DappInfo.Version}");
        return client;
    }

    private SocketsHttpHandler Sockets() => new()
    {
        ConnectTimeout = _options.ConnectTimeout,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        MaxConnectionsPerServer = Math.Max(_options.MaxConcurrentRequests * 2, 16),
        AutomaticDecompression = DecompressionMethods.None,
        AllowAutoRedirect = true,
        SslOptions = TrustOptions(_options.Environment("SSL_CERT_FILE")),
    };

    public Uri BaseUri(RepositoryName repository)
    {
        var host = repository.ApiHost;
        return new Uri($"{(IsPlainHttp(host) ? "http" : "https")}://{host}/");
    }

    public bool IsPlainHttp(string host) =>
        _options.AllInsecure || _options.InsecureRegistries.Contains(host) || IsLoopback(host);

    private static bool IsLoopback(string host)
    {
        var name = host.StartsWith('[') ? host[1..host.IndexOf(']')] : host.Split(':')[0];
        return name == "localhost" || (IPAddress.TryParse(name, out var ip) && IPAddress.IsLoopback(ip));
    }

    /// <summary>The system trust store, plus the certificates in SSL_CERT_FILE when set.</summary>
    private static SslClientAuthenticationOptions TrustOptions(string? certFile)
    {
        if (string.IsNullOrEmpty(certFile) || !File.Exists(certFile)) return new SslClientAuthenticationOptions();
        var extra = new X509Certificate2Collection();
        extra.ImportFromPemFile(certFile);
        return new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            {
                if (errors == SslPolicyErrors.None) return true;
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0) return false;
                using var custom = new X509Chain();
                custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                custom.ChainPolicy.CustomTrustStore.AddRange(extra);
                custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return custom.Build(new X509Certificate2(certificate));
            },
        };
    }
}
