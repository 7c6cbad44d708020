using System.Net;
using System.Net.Sockets;
using Dapp.Registry.Model;
using Polly;
using Polly.Retry;

namespace Dapp.Registry.Remote.Handlers;

/// <summary>
/// The transport's only retry layer: resends a request that failed transiently (connection errors, timeouts, 408,
/// 429, 5xx), waiting as the registry's Retry-After says or backing off, as long as the operation's
/// <see cref="RetryBudget"/> allows. What is left after the budget is returned (a status) or thrown (a transport error).
/// </summary>
internal sealed class RetryHandler : DelegatingHandler
{
    private static readonly ResiliencePropertyKey<RetryBudget> BudgetKey = new("dapp.budget");
    private static readonly ResiliencePropertyKey<TimeSpan> DelayKey = new("dapp.delay");
    private static readonly ResiliencePropertyKey<string> HostKey = new("dapp.host");
    private static readonly ResiliencePropertyKey<int> QuotaRetriesKey = new("dapp.quota-retries");

    private readonly RetryPolicy _policy;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    /// <param name="warn">Told when a request that got no answer in time is sent once more: the wait is long, the user should know why.</param>
    public RetryHandler(RetryPolicy policy, HttpMessageHandler inner, Action<string>? warn = null) : base(inner)
    {
        _policy = policy;
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = policy.Time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = int.MaxValue,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Context, args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Context.Properties.GetValue(DelayKey, TimeSpan.Zero)),
                OnRetry = args =>
                {
                    if (args.Outcome.Exception is TimeoutException timeout && warn is not null)
                        warn($"no answer from {args.Context.Properties.GetValue(HostKey, "the registry")} ({timeout.Message}); trying once more");
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var budget = request.Options.TryGetValue(RegistryRequest.Budget, out var shared) ? shared : _policy.NewBudget();
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(BudgetKey, budget);
        context.Properties.Set(HostKey, request.RequestUri?.Authority ?? "the registry");
        context.Properties.Set(QuotaRetriesKey, 0);
        try
        {
            return await _pipeline.ExecuteAsync(async (c, r) => await base.SendAsync(r, c.CancellationToken), context, request);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private bool ShouldRetry(ResilienceContext context, Outcome<HttpResponseMessage> outcome)
    {
        if (context.CancellationToken.IsCancellationRequested || Cause(outcome) is not { } cause) return false;
        var quotaRetries = context.Properties.GetValue(QuotaRetriesKey, 0);
        var quota = outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests };
        if (quota && quotaRetries >= _policy.MaxQuotaRetries) return false;
        if (!context.Properties.GetValue(BudgetKey, null!).TryTake(cause, RetryAfter(outcome.Result, _policy.Time.GetUtcNow()), out var delay)) return false;
        if (quota) context.Properties.Set(QuotaRetriesKey, quotaRetries + 1);
        context.Properties.Set(DelayKey, delay);
        return true;
    }

    public static RetryCause? Cause(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        null => outcome.Result is { } r && RegistryException.IsTransientStatus(r.StatusCode) ? RetryCause.Transient : null,
        TimeoutException => RetryCause.Timeout,
        // Answers that are not HTTP (a wrong port), TLS failures and limits do not mend by themselves.
        HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError or HttpRequestError.ConfigurationLimitExceeded
            or HttpRequestError.InvalidResponse } => null,
        HttpRequestException or IOException or SocketException => RetryCause.Transient,
        _ => null,
    };

    /// <summary>How long the server asks to wait: Retry-After, or (Docker Hub) the seconds until its quota resets, <c>RateLimit-Reset</c>.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response, DateTimeOffset now)
    {
        var retryAfter = response?.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta) return delta;
        if (retryAfter?.Date is { } date) return date - now is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        if (response?.Headers.TryGetValues("RateLimit-Reset", out var values) == true
            && long.TryParse(values.First().Split(';')[0].Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
            // An epoch time (some registries) or a number of seconds (the IETF draft).
            return seconds > 1_000_000_000 ? TimeSpan.FromSeconds(Math.Max(0, seconds - now.ToUnixTimeSeconds())) : TimeSpan.FromSeconds(seconds);
        return null;
    }
}
