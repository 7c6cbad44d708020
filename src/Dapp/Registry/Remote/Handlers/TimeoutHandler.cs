namespace Dapp.Registry.Remote.Handlers;

/// <summary>
/// Bounds the wait for an answer's headers (a registry that accepts connections and never answers); the body is
/// read under its own stall timeout by the client. A timeout surfaces as <see cref="TimeoutException"/>.
/// </summary>
internal sealed class TimeoutHandler(TimeSpan defaultTimeout, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var timeout = request.Options.TryGetValue(RegistryRequest.Timeout, out var given) ? given : defaultTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            return await base.SendAsync(request, deadline.Token);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {timeout.TotalSeconds:0} s", e);
        }
    }
}
