using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Dapp.Registry.Names;
using Polly;
using Polly.Retry;

namespace Dapp.Registry.Remote;

/// <summary>
/// HTTP to registries: one shared connection pool, https except for loopback and insecure registries, a limit on
/// parallel requests per registry, authentication, and retries with exponential backoff and jitter for transient
/// failures (connection errors, timeouts, 408, 429, 5xx), honouring Retry-After.
/// </summary>
internal sealed class RegistryTransport : IDisposable
{
    private readonly HttpClient _http;
    private readonly RegistryClientOptions _options;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _limits = new();
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;

    public RegistryTransport(RegistryClientOptions options)
    {
        _options = options;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(15),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            MaxConnectionsPerServer = Math.Max(options.MaxConcurrentRequests * 2, 16),
            AutomaticDecompression = DecompressionMethods.None,
            SslOptions = TrustOptions(options.Environment("SSL_CERT_FILE")),
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd($"dapp-dotnet/{DappInfo.Version}");
        Auth = new RegistryAuthenticator(_http, options);
        _retry = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(options.MaxRetries, 0) is 0 ? 1 : options.MaxRetries,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(options.MaxRetries > 0 && IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
                OnRetry = args =>
                {
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public RegistryAuthenticator Auth { get; }

    public RegistryClientOptions Options => _options;

    public void Dispose() => _http.Dispose();

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

    /// <summary>Holds one of the registry's parallel-request places until disposed.</summary>
    public async Task<IDisposable> AcquireAsync(RepositoryName repository, CancellationToken ct)
    {
        var limit = _limits.GetOrAdd(repository.Registry, _ => new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentRequests)));
        await limit.WaitAsync(ct);
        return new Release(limit);
    }

    private sealed class Release(SemaphoreSlim semaphore) : IDisposable
    {
        private int _released;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) semaphore.Release();
        }
    }

    /// <summary>
    /// Sends a request with authentication and retries. Transient statuses left after the retries, and every
    /// other status, are returned for the caller to interpret; a transport failure left after the retries throws.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(RepositoryName repository, IReadOnlyList<string> scopes,
        Func<HttpRequestMessage> createRequest, HttpCompletionOption completion, string what, CancellationToken ct)
    {
        try
        {
            return await _retry.ExecuteAsync(async token => await SendOnceAsync(repository, scopes, createRequest, completion, what, token), ct);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException or SocketException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            var reason = e is OperationCanceledException ? $"no answer within {_options.RequestTimeout.TotalSeconds:0} s" : e.GetBaseException().Message;
            throw new RegistryException($"{what}: cannot reach the registry {repository.Registry} ({reason}; gave up after {_options.MaxRetries} retries)", null, null, e);
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(RepositoryName repository, IReadOnlyList<string> scopes,
        Func<HttpRequestMessage> createRequest, HttpCompletionOption completion, string what, CancellationToken ct)
    {
        var registry = repository.Registry;
        var response = await SendWithTimeoutAsync(createRequest, await Auth.HeaderAsync(registry, scopes, renew: false, ct), completion, ct);
        if (response.StatusCode != HttpStatusCode.Unauthorized) return response;

        var challenge = AuthChallenge.Parse(response.Headers.WwwAuthenticate.ToString());
        response.Dispose();
        if (challenge is null)
            throw new RegistryException($"{what}: unauthorized: the registry {registry} refused the request without saying how to authenticate", "UNAUTHORIZED", HttpStatusCode.Unauthorized);
        Auth.Learn(registry, challenge);
        var header = await Auth.HeaderAsync(registry, scopes, renew: true, ct);
        if (header is null)
            throw new RegistryException($"{what}: unauthorized: {registry} requires authentication and no credentials were found (--registry-username/--registry-password or the Docker config)", "UNAUTHORIZED", HttpStatusCode.Unauthorized);
        response = await SendWithTimeoutAsync(createRequest, header, completion, ct);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            var user = (await Auth.CredentialAsync(registry, ct))?.Username;
            throw new RegistryException($"{what}: unauthorized: {registry} refused the credentials{(user is null ? "" : $" of user '{user}'")}", "UNAUTHORIZED", HttpStatusCode.Unauthorized);
        }
        return response;
    }

    private async Task<HttpResponseMessage> SendWithTimeoutAsync(Func<HttpRequestMessage> createRequest,
        System.Net.Http.Headers.AuthenticationHeaderValue? authorization, HttpCompletionOption completion, CancellationToken ct)
    {
        using var request = createRequest();
        request.Headers.Authorization = authorization;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.RequestTimeout);
        return await _http.SendAsync(request, completion, timeout.Token);
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        null => outcome.Result is { } r && IsTransientStatus(r.StatusCode),
        HttpRequestException or IOException or SocketException or TimeoutException => true,
        OperationCanceledException => true,
        _ => false,
    };

    public static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var retryAfter = response?.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta) return delta;
        if (retryAfter?.Date is { } date) return date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
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
