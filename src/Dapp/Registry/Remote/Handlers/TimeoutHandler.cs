namespace Dapp.Registry.Remote.Handlers;

/// <summary>
/// Bounds the wait for an answer's headers (a registry that accepts connections and never answers); the body is
/// read under its own stall timeout by the client. A request that sends a body (an upload) waits that long from the
/// last piece it sent: nothing sent or answered for that long is a stall, however large the body. A timeout surfaces
/// as <see cref="TimeoutException"/>.
/// </summary>
internal sealed class TimeoutHandler(TimeSpan defaultTimeout, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var timeout = request.Options.TryGetValue(RegistryRequest.Timeout, out var given) ? given : defaultTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var body = request.Content as ReopeningContent;
        if (body is not null)
            body.Sent = () =>
            {
                try
                {
                    deadline.CancelAfter(timeout);
                }
                catch (ObjectDisposedException)
                {
                    // The answer came before the body was all sent.
                }
            };
        try
        {
            return await base.SendAsync(request, deadline.Token);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {timeout.TotalSeconds:0} s", e);
        }
        finally
        {
            if (body is not null) body.Sent = null;
        }
    }
}
