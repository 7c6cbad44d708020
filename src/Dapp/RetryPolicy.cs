namespace Dapp;

/// <summary>Why an attempt failed in a way worth another try.</summary>
public enum RetryCause
{
    /// <summary>The server answered 408, 429 or 5xx, or the connection broke.</summary>
    Transient,

    /// <summary>Nothing came back in time: such an attempt costs a whole timeout, so few of them are retried.</summary>
    Timeout,
}

/// <summary>
/// The one retry policy of dapp, for registry requests and for the engine's transfers alike: how many retries one
/// operation gets, and how long to wait before each (exponential backoff with jitter, or the server's Retry-After).
/// </summary>
public sealed record RetryPolicy
{
    public int MaxRetries { get; init; } = 5;
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Timed-out attempts retried per operation: a silent endpoint fails after two timeouts, not six.</summary>
    public int MaxTimeoutRetries { get; init; } = 1;

    /// <summary>
    /// Retries of one request answered 429: one wait as the server asks, then the operation fails naming the quota.
    /// Counted per request, not per operation: a request refused again after the wait means the quota is used up,
    /// while 429s of different requests of a long transfer, each passing on its retry, are a rate limit.
    /// </summary>
    public int MaxQuotaRetries { get; init; } = 1;

    /// <summary>A Retry-After longer than this is not waited for: the operation fails and says how long was asked.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>The clock retries wait on (and Retry-After dates are read against).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public RetryBudget NewBudget() => new(this);

    /// <summary>The wait before retry number <paramref name="retry"/> (0-based): base × 2^retry, jittered by ±50 %, at most MaxDelay.</summary>
    public TimeSpan Backoff(int retry) =>
        TimeSpan.FromMilliseconds(Math.Min(MaxDelay.TotalMilliseconds,
            BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry, 30)) * (0.5 + Random.Shared.NextDouble())));
}

/// <summary>
/// One operation's allowance of retries. Every layer that may retry the operation (the registry transport, a
/// download resuming where it broke, an upload recovering its session, an engine transfer) draws from the same
/// budget, so retries never multiply across layers.
/// </summary>
public sealed class RetryBudget(RetryPolicy policy)
{
    private readonly Lock _lock = new();
    private int _retries;
    private int _timeouts;

    public RetryPolicy Policy => policy;

    /// <summary>Retries taken so far.</summary>
    public int Retries
    {
        get
        {
            lock (_lock) return _retries;
        }
    }

    /// <summary>Takes one retry; false when the budget is spent or the server asked to wait longer than the policy allows.</summary>
    public bool TryTake(RetryCause cause, TimeSpan? retryAfter, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        lock (_lock)
        {
            if (retryAfter > policy.MaxRetryAfter || _retries >= policy.MaxRetries) return false;
            if (cause == RetryCause.Timeout && _timeouts >= policy.MaxTimeoutRetries) return false;
            if (cause == RetryCause.Timeout) _timeouts++;
            delay = retryAfter ?? policy.Backoff(_retries);
            _retries++;
            return true;
        }
    }
}
