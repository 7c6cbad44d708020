namespace Dapp.Registry.Remote.Handlers;

/// <summary>Counts the requests sent on the wire (each retry and token request included), for a command's summary.</summary>
internal sealed class CountingHandler(RequestCounter counter, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        counter.Add();
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>The number of requests a client has sent.</summary>
public sealed class RequestCounter
{
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public void Add() => Interlocked.Increment(ref _count);
}
